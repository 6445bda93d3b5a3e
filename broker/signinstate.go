package broker

import "fmt"

// SignInState is where one server's credential stands, as the state file tells it: signed in,
// expired but renewable, waiting for a person, and so on. It is not the tray's health of a
// server (ui/model.State), which weighs this state together with the live bridges.
//
// Each state carries its words for every audience, so that the command line, the tray menu and
// the status window say the same thing in their own register: String for `status` and scripts
// (and the `status --json` value), MenuLine for the tray menu, Badge for the status window, and
// Tone for how a window colours it. A new state needs its words in signInWords; a test fails
// until it has them.
type SignInState int

// The sign-in states. The zero value is StateSignInRequired, so a status that was never filled
// in promises nothing.
const (
	// StateSignInRequired: no usable credential; a person must sign in.
	StateSignInRequired SignInState = iota
	// StateSignedIn: an access token that has not expired, or has no expiry.
	StateSignedIn
	// StateExpired: the access token expired, but a refresh token or the client credentials
	// get a new one on the next request, without a person.
	StateExpired
	// StateStaticToken: an API key or bearer token is stored.
	StateStaticToken
	// StateNoToken: the server takes an API key or bearer token, and none is stored.
	StateNoToken
	// StateNoAuth: the server needs no sign-in.
	StateNoAuth
	// StateSignedInIdP: the person is signed in to the company's identity provider, through
	// which an enterprise server gets (and renews) its tokens without a person.
	StateSignedInIdP
	// StateSignedInNoRefresh: an access token that has not expired, from a sign-in whose
	// authorization server gave no refresh token: at its expiry a person must sign in again.
	StateSignedInNoRefresh

	numSignInStates // keep last: the tests walk every state below it
)

// Tone is how much a state asks of a person, for an edge to colour it. It names no colour:
// broker never imports a UI toolkit, and each window maps a Tone to its own.
type Tone int

// The tones.
const (
	// ToneNeutral asks nothing and promises nothing (a token that renews by itself).
	ToneNeutral Tone = iota
	// ToneOK: requests go through without a person.
	ToneOK
	// ToneAttention: a person has to act before requests go through.
	ToneAttention
)

// String names the tone, for logs and test failures.
func (t Tone) String() string {
	switch t {
	case ToneNeutral:
		return "neutral"
	case ToneOK:
		return "ok"
	case ToneAttention:
		return "attention"
	}
	return fmt.Sprintf("Tone(%d)", int(t))
}

// stateWords are one state's words, one per audience.
type stateWords struct {
	cli   string // `status` and `status --json`: scripts read it, so it stays stable
	menu  string // the tray menu's line under a server
	badge string // the status window's badge, in sentence case
	tone  Tone
}

// signInWords holds every state's words, indexed by state.
var signInWords = [numSignInStates]stateWords{
	StateSignInRequired: {"sign-in required", "sign-in required", "Sign-in required", ToneAttention},
	StateSignedIn:       {"signed in", "signed in", "Signed in", ToneOK},
	StateExpired:        {"expired, will refresh", "signed in · renews on next use", "Token expired, will refresh", ToneNeutral},
	StateStaticToken:    {"token stored", "token stored", "Token stored", ToneOK},
	StateNoToken:        {"no token stored", "no token stored", "No token stored", ToneAttention},
	StateNoAuth:         {"no authorization", "no sign-in needed", "No sign-in needed", ToneOK},
	StateSignedInIdP:    {"signed in through the identity provider", "signed in with your company account", "Signed in with your company account", ToneOK},

	// Said at sign-in and until the expiry, while a setting can still bring a refresh token.
	StateSignedInNoRefresh: {"signed in, no refresh token", "signed in · no refresh token", "Signed in until the token expires (no refresh token)", ToneNeutral},
}

// unknownWords are the words of a value that is no state, so that a bug shows as "unknown"
// rather than as an empty line.
var unknownWords = stateWords{"unknown", "unknown", "Unknown", ToneNeutral}

func (s SignInState) words() stateWords {
	if s < 0 || s >= numSignInStates {
		return unknownWords
	}
	return signInWords[s]
}

// String is the state for the command line and scripts: "signed in", "expired, will refresh".
// `status` prints it and `status --json` carries it as "state"; scripts read both, so these
// words stay as they are.
func (s SignInState) String() string { return s.words().cli }

// MenuLine is the state as the tray menu says it under a server: "signed in", "signed in ·
// renews on next use", "no sign-in needed". The tray adds the expiry time itself.
func (s SignInState) MenuLine() string { return s.words().menu }

// Badge is the state as the status window's badge says it: "Signed in", "Token expired, will
// refresh", "No sign-in needed".
func (s SignInState) Badge() string { return s.words().badge }

// Tone is how much the state asks of a person; the status window colours the badge with it.
func (s SignInState) Tone() Tone { return s.words().tone }

// MarshalText writes the state as String does, so that `status --json` carries the words
// scripts already read.
func (s SignInState) MarshalText() ([]byte, error) {
	if s < 0 || s >= numSignInStates {
		return nil, fmt.Errorf("writing sign-in state: unknown state %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads the words MarshalText writes, so that a Go program can decode
// `status --json` into a ServerStatus.
func (s *SignInState) UnmarshalText(text []byte) error {
	for st := range numSignInStates {
		if signInWords[st].cli == string(text) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("reading sign-in state: unknown state %q", text)
}
