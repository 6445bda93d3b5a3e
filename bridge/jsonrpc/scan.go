package jsonrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxDepth bounds nesting exactly as encoding/json does (10000 levels are fine, 10001 are not),
// so that Parse accepts precisely what json.Valid accepts. The scanner is iterative: depth costs
// a bit of memory, never stack.
const maxDepth = 10000

// ErrSyntax is wrapped by every error Parse returns: the message is not valid JSON. The bridge
// answers such a line with CodeParseError.
var ErrSyntax = errors.New("invalid JSON")

// scanner walks a JSON text without building values. It validates exactly what encoding/json's
// scanner validates (structure, number grammar, string escapes and control characters; not UTF-8,
// which encoding/json does not check either) and records byte offsets instead of decoding.
type scanner struct {
	b     []byte
	i     int
	depth int
	// stack holds one bit per open container (1 = object, 0 = array): the first 128 levels
	// inline, deeper levels in deep, allocated only for pathological inputs.
	stack [2]uint64
	deep  []uint64
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) unexpected(what string) error {
	if s.i >= len(s.b) {
		return s.errorf("unexpected end of input, want %s", what)
	}
	return s.errorf("unexpected %q, want %s", s.b[s.i], what)
}

// skipWS advances over JSON whitespace.
func (s *scanner) skipWS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the byte at the cursor, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) push(object bool) error {
	if s.depth >= maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	word, bit := s.depth/64, uint(s.depth%64)
	var w *uint64
	if word < len(s.stack) {
		w = &s.stack[word]
	} else {
		for len(s.deep) <= word-len(s.stack) {
			s.deep = append(s.deep, 0)
		}
		w = &s.deep[word-len(s.stack)]
	}
	if object {
		*w |= 1 << bit
	} else {
		*w &^= 1 << bit
	}
	s.depth++
	return nil
}

func (s *scanner) pop() { s.depth-- }

// inObject reports whether the innermost open container is an object.
func (s *scanner) inObject() bool {
	d := s.depth - 1
	word, bit := d/64, uint(d%64)
	if word < len(s.stack) {
		return s.stack[word]&(1<<bit) != 0
	}
	return s.deep[word-len(s.stack)]&(1<<bit) != 0
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports whether any of the 8 bytes in x is '"', '\\' or a control character (< 0x20):
// the only bytes that end the fast path inside a string. It is the classic SWAR zero-byte test
// applied three times; exact for "any", which is all the caller needs.
func special(x uint64) bool {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q|(bs-ones)&^bs|(x-ones*0x20)&^x)&highs != 0
}

// skipString advances over the string starting at the cursor (which must be '"') and reports
// whether it contains escapes. Strings are where big messages spend their bytes (base64 blobs,
// text content), so the scan goes 8 bytes at a time until something needs a closer look.
func (s *scanner) skipString() (escaped bool, err error) {
	b := s.b
	i := s.i + 1
	for {
		for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		// At most 8 bytes (or the tail) hold the byte that stopped the fast path.
		end := min(i+8, len(b))
		for i < end && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
			i++
		}
		if i == end {
			if i == len(b) {
				s.i = i
				return escaped, s.errorf("unterminated string")
			}
			continue
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, nil
		case c < 0x20:
			s.i = i
			return escaped, s.errorf("control character %#x in string", c)
		}
		// A backslash: validate the escape.
		escaped = true
		i++
		if i >= len(b) {
			s.i = i
			return escaped, s.errorf("unterminated string")
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+5 > len(b) {
				s.i = len(b)
				return escaped, s.errorf("unterminated string")
			}
			for _, h := range b[i+1 : i+5] {
				if !isHex(h) {
					s.i = i
					return escaped, s.errorf("invalid \\u escape")
				}
			}
			i += 5
		default:
			s.i = i
			return escaped, s.errorf("invalid escape %q", b[i])
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipNumber advances over a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) skipNumber() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		s.i = i
		return s.unexpected("digit")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.unexpected("digit after decimal point")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.unexpected("digit in exponent")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return nil
}

func (s *scanner) skipLiteral(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.unexpected("literal " + lit)
	}
	s.i += len(lit)
	return nil
}

// skipScalar advances over a value that is not a container.
func (s *scanner) skipScalar() error {
	switch c := s.peek(); {
	case c == '"':
		_, err := s.skipString()
		return err
	case c == '-' || isDigit(c):
		return s.skipNumber()
	case c == 't':
		return s.skipLiteral("true")
	case c == 'f':
		return s.skipLiteral("false")
	case c == 'n':
		return s.skipLiteral("null")
	}
	return s.unexpected("value")
}

// objectKey reads `"key" :` at the cursor (after whitespace) and leaves the cursor at the value.
// It returns the key's raw bytes between the quotes.
func (s *scanner) objectKey() (key []byte, escaped bool, err error) {
	s.skipWS()
	if s.peek() != '"' {
		return nil, false, s.unexpected("object key")
	}
	start := s.i
	if escaped, err = s.skipString(); err != nil {
		return nil, false, err
	}
	key = s.b[start+1 : s.i-1]
	s.skipWS()
	if s.peek() != ':' {
		return nil, false, s.unexpected("':'")
	}
	s.i++
	s.skipWS()
	return key, escaped, nil
}

// skipValue advances over one complete value starting at the cursor (after whitespace), however
// deeply nested, without recursion.
func (s *scanner) skipValue() error {
	s.skipWS()
	base := s.depth
	for {
		// Here the cursor is at the start of a value.
		switch s.peek() {
		case '{':
			if err := s.push(true); err != nil {
				return err
			}
			s.i++
			s.skipWS()
			if s.peek() == '}' {
				s.i++
				s.pop()
				break
			}
			if _, _, err := s.objectKey(); err != nil {
				return err
			}
			continue
		case '[':
			if err := s.push(false); err != nil {
				return err
			}
			s.i++
			s.skipWS()
			if s.peek() == ']' {
				s.i++
				s.pop()
				break
			}
			continue
		default:
			if err := s.skipScalar(); err != nil {
				return err
			}
		}
		// A value just ended: close containers until one wants another value.
		for {
			if s.depth == base {
				return nil
			}
			s.skipWS()
			c := s.peek()
			if s.inObject() {
				if c == ',' {
					s.i++
					if _, _, err := s.objectKey(); err != nil {
						return err
					}
					break
				}
				if c == '}' {
					s.i++
					s.pop()
					continue
				}
				return s.unexpected("',' or '}'")
			}
			if c == ',' {
				s.i++
				s.skipWS()
				break
			}
			if c == ']' {
				s.i++
				s.pop()
				continue
			}
			return s.unexpected("',' or ']'")
		}
	}
}

// members iterates over the members of the object at the cursor (which must be '{'), calling fn
// with the cursor at each member's value; fn must advance past the value. Used only for the
// envelope's few levels, so the closure cost is paid a handful of times per message.
func (s *scanner) members(fn func(key []byte, escaped bool) error) error {
	if err := s.push(true); err != nil {
		return err
	}
	s.i++
	s.skipWS()
	if s.peek() == '}' {
		s.i++
		s.pop()
		return nil
	}
	for {
		key, escaped, err := s.objectKey()
		if err != nil {
			return err
		}
		if err := fn(key, escaped); err != nil {
			return err
		}
		s.skipWS()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.pop()
			return nil
		default:
			return s.unexpected("',' or '}'")
		}
	}
}
