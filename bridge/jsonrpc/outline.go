package jsonrpc

import "bytes"

// Outline reads the envelope of a message too large to keep: the message's bytes are written
// to it in pieces, as they arrive, and it keeps only what Parse would say of the kind and id of
// the message (or of each element of a batch), in bounded memory whatever the size. A relay
// that must drop an answer larger than its limit uses it to learn which request to answer with
// an error instead, so that the request does not wait forever. The id may come anywhere among
// the members: some servers write it after the result.
//
// It is not a validator: text that is not JSON gives an unspecified outline, and Envelope
// reports false only when the text did not end as a complete JSON object or array. The zero
// value is ready to use.
type Outline struct {
	depth int  // open containers
	top   byte // the outermost value's first byte: '{', '[', or another for a scalar
	done  bool // the outermost container closed
	inStr bool
	esc   bool

	// msgDepth is the depth of the message objects' members: 1 for a message, 2 for the
	// elements of a batch; 0 while no message object is open.
	msgDepth int
	state    outlineState
	key      [16]byte
	keyLen   int // > len(key): a key the envelope does not care about
	keyEsc   bool
	member   member
	val      []byte // the id value being read
	valBad   bool   // the id value is too long or not a scalar
	inScalar bool   // reading a number or literal at member depth
	cur      outlineMsg

	msgs []outlineMsg
}

// outlineState is where the reader is within a message object's members.
type outlineState int

const (
	wantKey    outlineState = iota // a key or '}'
	inKey                          // inside the key string
	wantColon                      // after the key
	wantValue                      // after the colon
	inValue                        // inside the value (a string, scalar or container)
	afterValue                     // ',' or '}'
)

// maxOutlineID bounds an id kept by Outline; a message with a longer id outlines as invalid.
const maxOutlineID = 256

// maxOutlineBatch bounds the batch elements kept by Outline.
const maxOutlineBatch = 1 << 16

// outlineMsg is what Outline saw of one message object's members.
type outlineMsg struct {
	object bool
	id     []byte
	// hasID: an id member; idBad: its value is too long to keep, or an object or array.
	hasID, idBad bool
	// method: a method member; methodString: its value is a string.
	method, methodString bool
	result, errMember    bool
}

// Reset makes o ready for another message.
func (o *Outline) Reset() { *o = Outline{msgs: o.msgs[:0], val: o.val[:0]} }

// Write takes the next piece of the message. It never fails.
func (o *Outline) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if o.done {
			return n, nil
		}
		if o.inStr {
			// Skip string contents quickly unless they are kept (a key, or the id).
			keep := o.depth == o.msgDepth && (o.state == inKey || (o.state == inValue && o.member == memberID))
			i := 0
			if !o.esc {
				i = bytes.IndexAny(p, `"\`)
				if i < 0 {
					i = len(p)
				}
				if keep {
					o.keep(p[:i])
				}
				if i == len(p) {
					return n, nil
				}
			}
			c := p[i]
			p = p[i+1:]
			switch {
			case o.esc:
				o.esc = false
			case c == '\\':
				o.esc = true
				if o.state == inKey {
					o.keyEsc = true
				}
			case c == '"':
				o.inStr = false
				if keep && o.state == inValue {
					o.keep([]byte{'"'})
				}
				o.endString()
				continue
			}
			if keep {
				o.keep([]byte{c})
			}
			continue
		}
		c := p[0]
		p = p[1:]
		o.byte(c)
	}
	return n, nil
}

// keep records string or scalar bytes of a key or of the id.
func (o *Outline) keep(b []byte) {
	if o.state == inKey {
		if o.keyLen+len(b) <= len(o.key) {
			copy(o.key[o.keyLen:], b)
		}
		o.keyLen += len(b)
		return
	}
	if o.valBad {
		return
	}
	if len(o.val)+len(b) > maxOutlineID {
		o.valBad = true
		return
	}
	o.val = append(o.val, b...)
}

// byte handles one byte outside strings.
func (o *Outline) byte(c byte) {
	atMembers := o.msgDepth > 0 && o.depth == o.msgDepth
	if o.inScalar && atMembers {
		switch c {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			o.endValue()
		default:
			o.keep([]byte{c})
			return
		}
	}
	switch c {
	case ' ', '\t', '\n', '\r':
	case '"':
		if o.top == 0 {
			o.top = c
		}
		o.inStr = true
		if o.depth == 1 && o.top == '[' && o.msgDepth == 0 {
			o.addMsg(outlineMsg{}) // a string batch element
		}
		if atMembers {
			switch o.state {
			case wantKey:
				o.state, o.keyLen, o.keyEsc = inKey, 0, false
			case wantValue:
				o.startValue()
				if o.member == memberMethod {
					o.cur.methodString = true
				}
				if o.member == memberID {
					o.keep([]byte{'"'})
				}
			}
		}
	case '{', '[':
		if o.top == 0 {
			o.top = c
		}
		if atMembers && o.state == wantValue {
			o.startValue()
			if o.member == memberID {
				o.valBad = true // an object or array is no id
			}
		}
		o.depth++
		switch {
		case c == '{' && o.depth == 1 && o.top == '{':
			o.openMessage(1)
		case c == '{' && o.depth == 2 && o.top == '[':
			o.openMessage(2)
		case o.depth == 2 && o.top == '[':
			o.addMsg(outlineMsg{}) // a batch element that is not an object
		}
	case '}', ']':
		if atMembers && c == '}' {
			o.closeMessage()
		}
		o.depth--
		if o.depth == 0 {
			o.done = true
		}
		if o.msgDepth > 0 && o.depth == o.msgDepth && o.state == inValue {
			o.endValue() // a container value of a member closed
		}
	case ':':
		if atMembers && o.state == wantColon {
			o.state = wantValue
		}
	case ',':
		if atMembers && o.state == afterValue {
			o.state = wantKey
		}
	default:
		if o.top == 0 {
			o.top = c
		}
		if o.depth == 1 && o.top == '[' && o.msgDepth == 0 {
			// A scalar batch element: counted once, at its first byte.
			o.addMsg(outlineMsg{})
			o.msgDepth = -1 // until the next ',' or ']'
		}
		if atMembers && o.state == wantValue {
			o.startValue()
			o.inScalar = true
			if o.member == memberID {
				o.keep([]byte{c})
			}
		}
	}
	if o.msgDepth == -1 && (c == ',' || c == ']') {
		o.msgDepth = 0
	}
}

func (o *Outline) openMessage(depth int) {
	o.msgDepth, o.state, o.cur = depth, wantKey, outlineMsg{object: true}
}

// endString handles the end of a string at member depth: a key, or a value.
func (o *Outline) endString() {
	if o.msgDepth <= 0 || o.depth != o.msgDepth {
		return
	}
	switch o.state {
	case inKey:
		o.member = memberOther
		if o.keyLen <= len(o.key) {
			o.member = classify(o.key[:o.keyLen], o.keyEsc)
		}
		o.state = wantColon
	case inValue:
		o.endValue()
	}
}

func (o *Outline) startValue() {
	o.state = inValue
	o.val, o.valBad, o.inScalar = o.val[:0], false, false
	if o.member == memberMethod {
		o.cur.method, o.cur.methodString = true, false
	}
}

// endValue records the member whose value just ended (a duplicate counts by its last
// occurrence, as in Parse).
func (o *Outline) endValue() {
	o.inScalar = false
	o.state = afterValue
	switch o.member {
	case memberID:
		o.cur.hasID, o.cur.idBad = true, o.valBad || len(o.val) == 0
		o.cur.id = append(o.cur.id[:0], o.val...)
	case memberResult:
		o.cur.result = true
	case memberError:
		o.cur.errMember = true
	}
}

func (o *Outline) closeMessage() {
	if o.inScalar {
		o.endValue()
	}
	o.addMsg(o.cur)
	o.cur = outlineMsg{}
	o.msgDepth = 0
}

func (o *Outline) addMsg(m outlineMsg) {
	if len(o.msgs) < maxOutlineBatch {
		o.msgs = append(o.msgs, m)
	}
}

// Envelope returns what Parse would say of the message's kind and id (and, for a batch, of
// each element's): Kind and ID only. It reports false when the text written so far is not a
// complete JSON object or array.
func (o *Outline) Envelope() (Envelope, bool) {
	if !o.done || (o.top != '{' && o.top != '[') {
		return Envelope{}, false
	}
	if o.top == '{' {
		if len(o.msgs) != 1 {
			return Envelope{}, false
		}
		return o.msgs[0].envelope(), true
	}
	if len(o.msgs) == 0 {
		return Envelope{Kind: KindInvalid}, true
	}
	env := Envelope{Kind: KindBatch, Batch: make([]Envelope, len(o.msgs))}
	for i, m := range o.msgs {
		env.Batch[i] = m.envelope()
	}
	return env, true
}

// envelope classifies one message the way Parse does, from the members it had.
func (m outlineMsg) envelope() Envelope {
	if !m.object {
		return Envelope{Kind: KindInvalid}
	}
	var id []byte
	if m.hasID {
		// Let Parse judge the id's JSON; JSON-RPC allows a string, a number or null.
		probe := make([]byte, 0, len(m.id)+7)
		probe = append(append(append(probe, `{"id":`...), m.id...), '}')
		env, err := Parse(probe)
		if m.idBad || err != nil || len(env.ID) == 0 || !isIDStart(env.ID[0]) {
			return Envelope{Kind: KindInvalid}
		}
		id = env.ID
	}
	switch {
	case m.method && !m.methodString:
		return Envelope{Kind: KindInvalid}
	case m.method && m.hasID:
		return Envelope{Kind: KindRequest, ID: id}
	case m.method:
		return Envelope{Kind: KindNotification}
	case (m.result || m.errMember) && m.hasID:
		return Envelope{Kind: KindResponse, ID: id}
	}
	return Envelope{Kind: KindInvalid}
}
