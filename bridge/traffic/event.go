package traffic

import (
	"encoding/json"
	"time"
)

// Kind says what an event is.
type Kind string

const (
	// KindMessage is a JSON-RPC message relayed between the client and the server.
	KindMessage Kind = "message"
	// KindStep is a step of a sign-in or a token renewal (broker.StepName).
	KindStep Kind = "step"
)

// Direction is which way a message went.
type Direction string

const (
	// ToServer is a message from the client (Claude Code), on its way to the server.
	ToServer Direction = "to-server"
	// ToClient is a message written to the client.
	ToClient Direction = "to-client"
)

// Event is one entry of the timeline. It never holds a secret (see the package comment).
type Event struct {
	Time   time.Time `json:"time"`
	Server string    `json:"server"`
	// PID is the bridge's process: one bridge per Claude Code session and server.
	PID  int  `json:"pid"`
	Kind Kind `json:"kind"`
	// Dir, Type ("request", "notification", "response", "batch"), Method, ID and Size
	// describe a message. A response carries the method of the request it answers.
	Dir    Direction `json:"dir,omitempty"`
	Type   string    `json:"type,omitempty"`
	Method string    `json:"method,omitempty"`
	ID     string    `json:"id,omitempty"`
	Size   int       `json:"size,omitempty"`
	// ElapsedMS is, for a response, the time since the client sent its request, in
	// milliseconds.
	ElapsedMS float64 `json:"elapsed_ms,omitempty"`
	// ErrorCode and ErrorMessage are an error response's.
	ErrorCode    int    `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// Step and Outcome ("ok" or "failed") describe a sign-in or renewal step; Error says why
	// it failed.
	Step    string `json:"step,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
	// Body is the message, redacted (see Body), when bodies are on; Omitted says why it is
	// missing when they are on and it is not there.
	Body    json.RawMessage `json:"body,omitempty"`
	Omitted string          `json:"omitted,omitempty"`
}

// Failed reports whether the event is an error: an error response or a failed step.
func (e Event) Failed() bool {
	return e.ErrorCode != 0 || e.ErrorMessage != "" || e.Outcome == OutcomeFailed
}

// The outcomes of a step.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
)
