package report

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"bearer header", "Authorization: Bearer mF_9.B5f-4.1JqM9zQ3xYx", "Authorization: Bearer " + Redacted},
		{"dpop header", "authorization: DPoP Kz9vQ2pL7mN4xR8tY1wE5uI3", "authorization: DPoP " + Redacted},
		{"challenge stays", `WWW-Authenticate: Bearer resource_metadata="https://x.example/.well-known/oauth-protected-resource"`,
			`WWW-Authenticate: Bearer resource_metadata="https://x.example/.well-known/oauth-protected-resource"`},
		{"jwt", "token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here", "token " + Redacted + " here"},
		{"json secret", `{"access_token":"at-1","refresh_token": "rt-2"}`, `{"access_token":"` + Redacted + `","refresh_token": "` + Redacted + `"}`},
		{"query secret", "GET /cb?code=abc&state=x", "GET /cb?code=" + Redacted + "&state=x"},
		{"client secret", "client_secret=s3", "client_secret=" + Redacted},
		{"redacted already", "mcp?api_key=REDACTED", "mcp?api_key=REDACTED"},
		{"pem", "key:\n-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\nend",
			"key:\n" + Redacted + "\nend"},
		{"base64url token", "got Xq3v9Lr2Tz8Kp1Wm4Ny7Bs6Hd5Gf0Ja alone", "got " + Redacted + " alone"},
		{"base64 with slashes", "k: AbCdEf12/GhIjKl34+MnOpQr56/StUvWx78YzAbCdEf12GhIjKl34MnOpQr56StU=",
			"k: " + Redacted},
		{"path stays", "/tmp/TestReport2961394371/001/mcp-broker/config.json", "/tmp/TestReport2961394371/001/mcp-broker/config.json"},
		{"words stay", "authorization_code refresh_token urn:ietf:params:oauth:grant-type:jwt-bearer",
			"authorization_code refresh_token urn:ietf:params:oauth:grant-type:jwt-bearer"},
		{"version stays", "go1.26.8 linux/amd64 2025-06-18 streamable-http", "go1.26.8 linux/amd64 2025-06-18 streamable-http"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestScrubRandomTokens checks the shapes of secrets mcp-broker and servers make: whatever
// their length past 24 characters, none survives.
func TestScrubRandomTokens(t *testing.T) {
	for _, s := range []string{
		"4bPq_Zt7cYw-1xK9mJr2LsVd8NfHg3Ea6Ou5Ti0Qy", // 32 random bytes, base64url
		"8f14e45fceea167a5a36dedd4bea2543",          // hex
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
	} {
		if got := Scrub("value " + s + " end"); strings.Contains(got, s) {
			t.Errorf("Scrub kept %q: %q", s, got)
		}
	}
}
