package jsonrpc

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Kind says what a message is, from its envelope alone.
type Kind int

const (
	// KindInvalid is valid JSON that is not a JSON-RPC 2.0 message: not an object, a method that
	// is not a string, an id that is not a string, number or null, a response without an id, an
	// empty batch. The bridge answers it from the client with CodeInvalidRequest.
	KindInvalid Kind = iota
	// KindRequest has a method and an id (possibly null).
	KindRequest
	// KindNotification has a method and no id member at all.
	KindNotification
	// KindResponse has "result" or "error", an id and no method.
	KindResponse
	// KindBatch is a non-empty JSON array; Envelope.Batch holds its elements' envelopes.
	KindBatch
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	case KindBatch:
		return "batch"
	}
	return "invalid"
}

// Envelope is what the bridge needs to route a message without decoding it.
//
// ID and ProgressToken alias the message passed to Parse (no copy): keep the message alive and
// unmodified while using them.
type Envelope struct {
	Kind Kind
	// ID is the id's exact bytes (a string with its quotes and escapes, a number with all its
	// digits, or null), nil when the message has no id member. Never converted through float64.
	ID json.RawMessage
	// Method is the decoded method name of a request or notification.
	Method string
	// IsError is set for a response whose "error" member is present and not null.
	IsError bool
	// Batch holds each element's envelope for KindBatch; an element that is not an object gets
	// KindInvalid. Nested batches are not JSON-RPC and are KindInvalid elements too.
	Batch []Envelope
	// ProgressToken is params._meta.progressToken's exact bytes for requests and notifications,
	// nil when absent.
	ProgressToken json.RawMessage
	// ToolName is params.name for tools/call and prompts/get and params.uri for resources/read
	// (the 2026-07-28 Mcp-Name header), "" otherwise or when not a string.
	ToolName string
}

// Parse inspects the envelope of one JSON-RPC message (or batch). It validates the whole text as
// JSON, exactly as strictly as encoding/json, but never decodes params, results or errors: large
// values are skipped by a scanner that allocates nothing. An error (wrapping ErrSyntax) means the
// text is not JSON; valid JSON that is not a JSON-RPC message gives KindInvalid and a nil error.
//
// Parse is lenient where a relay should be: "jsonrpc":"2.0" is not required, unknown members are
// ignored, and a duplicate member counts by its last occurrence (as in encoding/json). It never
// panics and allocates only for batches and for method or tool names it does not know in advance.
func Parse(msg []byte) (Envelope, error) {
	s := scanner{b: msg}
	var env Envelope
	s.skipWS()
	switch s.peek() {
	case '{':
		if err := s.envelope(&env); err != nil {
			return Envelope{}, err
		}
	case '[':
		if err := s.batch(&env); err != nil {
			return Envelope{}, err
		}
	default:
		if err := s.skipValue(); err != nil {
			return Envelope{}, err
		}
	}
	s.skipWS()
	if s.i != len(s.b) {
		return Envelope{}, s.unexpected("end of input")
	}
	return env, nil
}

func (s *scanner) batch(env *Envelope) error {
	if err := s.push(false); err != nil {
		return err
	}
	s.i++
	s.skipWS()
	if s.peek() == ']' {
		s.i++
		s.pop()
		return nil // an empty batch is KindInvalid
	}
	var elems []Envelope
	for {
		s.skipWS()
		var e Envelope
		if s.peek() == '{' {
			if err := s.envelope(&e); err != nil {
				return err
			}
		} else if err := s.skipValue(); err != nil {
			return err
		}
		elems = append(elems, e)
		s.skipWS()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.pop()
			env.Kind = KindBatch
			env.Batch = elems
			return nil
		default:
			return s.unexpected("',' or ']'")
		}
	}
}

// member names the envelope cares about; everything else is skipped.
type member int

const (
	memberOther member = iota
	memberID
	memberMethod
	memberParams
	memberResult
	memberError
)

func classify(key []byte, escaped bool) member {
	k := key
	if escaped {
		k = unescape(key)
	}
	switch string(k) {
	case "id":
		return memberID
	case "method":
		return memberMethod
	case "params":
		return memberParams
	case "result":
		return memberResult
	case "error":
		return memberError
	}
	return memberOther
}

// unescape decodes the raw contents of a string (between the quotes) the way encoding/json does,
// including its replacement of invalid UTF-8. Only for the rare strings that need it.
func unescape(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(quoted, '"')
	quoted = append(quoted, raw...)
	quoted = append(quoted, '"')
	var out string
	if json.Unmarshal(quoted, &out) != nil {
		return raw // cannot happen for a string the scanner accepted
	}
	return []byte(out)
}

// span is a value's position in the message; zero means absent.
type span struct{ start, end int }

func (sp span) present() bool { return sp.end > 0 }

// envelope scans the object at the cursor. Values it needs are recorded as spans; params are
// walked one level (two for _meta) in the same pass; everything else is skipped.
func (s *scanner) envelope(env *Envelope) error {
	var (
		id, method, result, errv span
		methodEscaped            bool
		name, uri, token         span
		nameEscaped, uriEscaped  bool
	)
	err := s.members(func(key []byte, escaped bool) error {
		m := classify(key, escaped)
		start := s.i
		var err error
		switch m {
		case memberMethod:
			if s.peek() == '"' {
				methodEscaped, err = s.skipString()
			} else {
				err = s.skipValue()
			}
		case memberParams:
			name, uri, token = span{}, span{}, span{}
			if s.peek() == '{' {
				err = s.params(&name, &uri, &token, &nameEscaped, &uriEscaped)
			} else {
				err = s.skipValue()
			}
		default:
			err = s.skipValue()
		}
		if err != nil {
			return err
		}
		sp := span{start, s.i}
		switch m {
		case memberID:
			id = sp
		case memberMethod:
			method = sp
		case memberResult:
			result = sp
		case memberError:
			errv = sp
		}
		return nil
	})
	if err != nil {
		return err
	}

	if id.present() {
		env.ID = json.RawMessage(s.b[id.start:id.end:id.end])
	}
	idOK := !id.present() || isIDStart(s.b[id.start])
	switch {
	case method.present():
		if s.b[method.start] != '"' || !idOK {
			return nil
		}
		env.Method = methodName(s.b[method.start+1:method.end-1], methodEscaped)
		env.Kind = KindNotification
		if id.present() {
			env.Kind = KindRequest
		}
		if token.present() {
			env.ProgressToken = json.RawMessage(s.b[token.start:token.end:token.end])
		}
		switch env.Method {
		case "tools/call", "prompts/get":
			env.ToolName = stringValue(s.b, name, nameEscaped)
		case "resources/read":
			env.ToolName = stringValue(s.b, uri, uriEscaped)
		}
	case result.present() || errv.present():
		if !id.present() || !idOK {
			return nil
		}
		env.Kind = KindResponse
		env.IsError = errv.present() && s.b[errv.start] != 'n'
	}
	return nil
}

// params walks the params object recording name, uri and _meta.progressToken.
func (s *scanner) params(name, uri, token *span, nameEscaped, uriEscaped *bool) error {
	return s.members(func(key []byte, escaped bool) error {
		k := key
		if escaped {
			k = unescape(key)
		}
		start := s.i
		switch string(k) {
		case "name", "uri":
			if s.peek() != '"' {
				return s.skipValue()
			}
			esc, err := s.skipString()
			if err != nil {
				return err
			}
			if string(k) == "name" {
				*name, *nameEscaped = span{start, s.i}, esc
			} else {
				*uri, *uriEscaped = span{start, s.i}, esc
			}
			return nil
		case "_meta":
			if s.peek() != '{' {
				return s.skipValue()
			}
			*token = span{}
			return s.members(func(key []byte, escaped bool) error {
				k := key
				if escaped {
					k = unescape(key)
				}
				start := s.i
				if err := s.skipValue(); err != nil {
					return err
				}
				if string(k) == "progressToken" {
					*token = span{start, s.i}
				}
				return nil
			})
		}
		return s.skipValue()
	})
}

// isIDStart reports whether a value starting with c is a string, number or null: the id types
// JSON-RPC allows.
func isIDStart(c byte) bool {
	return c == '"' || c == '-' || isDigit(c) || c == 'n'
}

func stringValue(b []byte, sp span, escaped bool) string {
	if !sp.present() {
		return ""
	}
	raw := b[sp.start+1 : sp.end-1]
	if escaped || !utf8.Valid(raw) {
		return string(unescape(raw))
	}
	return string(raw)
}

// methodName decodes a method name, returning a constant for the methods MCP defines so that
// the common case does not allocate.
func methodName(raw []byte, escaped bool) string {
	if escaped {
		return string(unescape(raw))
	}
	switch string(raw) {
	case "initialize":
		return "initialize"
	case "ping":
		return "ping"
	case "tools/list":
		return "tools/list"
	case "tools/call":
		return "tools/call"
	case "resources/list":
		return "resources/list"
	case "resources/templates/list":
		return "resources/templates/list"
	case "resources/read":
		return "resources/read"
	case "resources/subscribe":
		return "resources/subscribe"
	case "resources/unsubscribe":
		return "resources/unsubscribe"
	case "prompts/list":
		return "prompts/list"
	case "prompts/get":
		return "prompts/get"
	case "completion/complete":
		return "completion/complete"
	case "logging/setLevel":
		return "logging/setLevel"
	case "roots/list":
		return "roots/list"
	case "sampling/createMessage":
		return "sampling/createMessage"
	case "elicitation/create":
		return "elicitation/create"
	case "tasks/get":
		return "tasks/get"
	case "tasks/result":
		return "tasks/result"
	case "tasks/list":
		return "tasks/list"
	case "tasks/cancel":
		return "tasks/cancel"
	case "subscriptions/listen":
		return "subscriptions/listen"
	case "notifications/initialized":
		return "notifications/initialized"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "notifications/progress":
		return "notifications/progress"
	case "notifications/message":
		return "notifications/message"
	case "notifications/tools/list_changed":
		return "notifications/tools/list_changed"
	case "notifications/prompts/list_changed":
		return "notifications/prompts/list_changed"
	case "notifications/resources/list_changed":
		return "notifications/resources/list_changed"
	case "notifications/resources/updated":
		return "notifications/resources/updated"
	case "notifications/roots/list_changed":
		return "notifications/roots/list_changed"
	case "notifications/elicitation/complete":
		return "notifications/elicitation/complete"
	case "notifications/tasks/status":
		return "notifications/tasks/status"
	}
	if !utf8.Valid(raw) {
		return string(unescape(raw))
	}
	return string(raw)
}

// IDKey returns a map key for the id that is the same for every spelling of the same id a peer
// might echo back: surrounding and (for odd object or array ids) inner whitespace is ignored, and
// a string id is keyed by its decoded value, so "\u0061" and "a" match. Numbers are keyed by their
// exact digits (1 and 1.0 differ), which is what a lossless peer returns. An absent id gives "".
func (e Envelope) IDKey() string {
	id := bytes.TrimSpace(e.ID)
	if len(id) == 0 {
		return ""
	}
	switch id[0] {
	case '"':
		if len(id) < 2 || id[len(id)-1] != '"' {
			break // not from Parse; key the bytes
		}
		raw := id[1 : len(id)-1]
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(id)
		}
		// Key the decoded value between quotes: that is exactly the key the same value gets
		// when spelled without escapes, and different values keep different keys.
		dec := unescape(raw)
		key := make([]byte, 0, len(dec)+2)
		key = append(key, '"')
		key = append(key, dec...)
		key = append(key, '"')
		return string(key)
	case '{', '[':
		var buf bytes.Buffer
		if json.Compact(&buf, id) == nil {
			return buf.String()
		}
	}
	return string(id)
}
