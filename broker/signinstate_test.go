package broker

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSignInStateWords pins the words of every sign-in state for every audience: the command
// line and scripts (String, also the `status --json` value), the tray menu, the status
// window's badge, and the tone the window colours it with. It walks every state, so a state
// added without its words, or without a row here, fails.
func TestSignInStateWords(t *testing.T) {
	type words struct {
		cli, menu, badge string
		tone             Tone
	}
	want := map[SignInState]words{
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
	if len(want) != int(numSignInStates) {
		t.Errorf("the test has %d rows for %d states", len(want), numSignInStates)
	}
	cliWords := map[string]SignInState{}
	for s := range numSignInStates {
		w, ok := want[s]
		if !ok {
			t.Errorf("state %d (%q) has no row in this test", int(s), s)
			continue
		}
		got := words{s.String(), s.MenuLine(), s.Badge(), s.Tone()}
		if got.cli == "" || got.menu == "" || got.badge == "" {
			t.Errorf("state %d has no words for an audience: %+v", int(s), got)
		}
		if got != w {
			t.Errorf("state %d: words %+v, want %+v", int(s), got, w)
		}
		if other, dup := cliWords[got.cli]; dup {
			t.Errorf("states %d and %d both read %q: scripts could not tell them apart", int(other), int(s), got.cli)
		}
		cliWords[got.cli] = s
	}
}

// TestSignInStateJSON checks that `status --json` carries a state as the words `status`
// prints, and that a Go program reads them back into the same state.
func TestSignInStateJSON(t *testing.T) {
	for s := range numSignInStates {
		b, err := json.Marshal(ServerStatus{Name: "studio", State: s})
		if err != nil {
			t.Fatalf("state %q: %v", s, err)
		}
		if wantField := `"state":"` + s.String() + `"`; !strings.Contains(string(b), wantField) {
			t.Errorf("state %q: JSON %s has no %s", s, b, wantField)
		}
		var back ServerStatus
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("state %q: reading %s: %v", s, b, err)
		}
		if back.State != s {
			t.Errorf("state %q read back as %q", s, back.State)
		}
	}
}

// TestSignInStateUnknown: a value that is no state reads "unknown" to people, in a neutral
// tone, and is refused in JSON both ways rather than written or read as a guess.
func TestSignInStateUnknown(t *testing.T) {
	for _, s := range []SignInState{-1, numSignInStates, 42} {
		if s.String() != "unknown" || s.MenuLine() != "unknown" || s.Badge() != "Unknown" || s.Tone() != ToneNeutral {
			t.Errorf("state %d: %q %q %q %v", int(s), s.String(), s.MenuLine(), s.Badge(), s.Tone())
		}
		if b, err := json.Marshal(ServerStatus{State: s}); err == nil {
			t.Errorf("state %d was written as JSON: %s", int(s), b)
		}
	}
	var ss ServerStatus
	if err := json.Unmarshal([]byte(`{"state":"signed out"}`), &ss); err == nil {
		t.Errorf(`"signed out" was read as state %d`, int(ss.State))
	}
}
