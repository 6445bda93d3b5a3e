// Package jsonrpc is the bridge's view of JSON-RPC 2.0 on the wire: newline-delimited framing for
// the stdio side (Reader, Writer), a cheap envelope inspection (Parse, and Outline for a message
// too large to keep) and the few error responses the bridge writes itself (ErrorResponse).
//
// The bridge is a lossless relay, so nothing here re-encodes a message: Reader hands back the
// exact bytes of a line, Parse looks only at the envelope (id, method, whether it is a response)
// and skips params and results without decoding them, and Writer sends the bytes untouched unless
// they contain a raw newline, which the stdio transport forbids. Ids are kept as their exact bytes
// so that strings and integers beyond 2^53 survive the trip.
//
// The package imports only the standard library and is safe to build without cgo everywhere.
package jsonrpc
