package jsonrpc

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Error codes the bridge itself answers with (JSON-RPC 2.0 section 5.1). Codes from the upstream
// server are relayed untouched; these are only for answers the bridge makes up.
const (
	// CodeParseError answers a line that is not JSON (with a null id).
	CodeParseError = -32700
	// CodeInvalidRequest answers JSON that is not a JSON-RPC message.
	CodeInvalidRequest = -32600
	// CodeMethodNotFound answers a method the bridge handles itself and does not know.
	CodeMethodNotFound = -32601
	// CodeInvalidParams answers a request whose params the bridge will not send (MCP answers
	// a call to an unknown tool with it).
	CodeInvalidParams = -32602
	// CodeInternalError is a fault in the bridge.
	CodeInternalError = -32603
	// CodeUpstream is the bridge's code, from the implementation-defined server error range
	// (-32000 to -32099), for "the remote server could not be reached or refused us": the
	// message names the server and the cause.
	CodeUpstream = -32000
)

// ErrorResponse builds a complete error response, without a trailing newline:
//
//	{"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":"MESSAGE","data":DATA}}
//
// A nil (or not valid JSON) id becomes null. The message is JSON-escaped, invalid UTF-8 replaced.
// data is marshalled with encoding/json and left out when nil or when it cannot be marshalled;
// a json.RawMessage is inserted as is when valid.
func ErrorResponse(id json.RawMessage, code int, message string, data any) []byte {
	b := make([]byte, 0, 64+len(id)+len(message))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	if len(id) == 0 || !json.Valid(id) {
		b = append(b, "null"...)
	} else {
		b = appendCompactJSON(b, id)
	}
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	if data != nil {
		if raw, err := json.Marshal(data); err == nil {
			b = append(b, `,"data":`...)
			b = appendCompactJSON(b, raw)
		}
	}
	return append(b, "}}"...)
}

// appendCompactJSON appends valid JSON with whitespace outside strings removed, so that the
// result never contains a newline.
func appendCompactJSON(b, v []byte) []byte {
	out, err := appendCompact(b, v)
	if err != nil {
		return append(b, "null"...)
	}
	return out
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Unlike encoding/json it leaves <, > and & alone (the
// output goes to a JSON-RPC peer, not into HTML), but it escapes U+2028 and U+2029 for peers that
// treat them as line ends.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
