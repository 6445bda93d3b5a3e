package report

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// Redacted is what stands in for whatever Scrub takes out.
const Redacted = "[REDACTED]"

// Compiled at first use, not at init: every start of the bridge links this package, and
// compiling its expressions up front would add to each one.
var (
	// pemBlock is a whole PEM block, armour included: a private key pasted into a note.
	pemBlock = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)`)
	})
	// authHeader is an Authorization header's credential after its scheme; holding a digit
	// and 16 characters or more tells it from a challenge's parameters (Bearer resource_metadata=…).
	authHeader = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(bearer|dpop|basic)( +)([A-Za-z0-9._~+/=-]{16,})`)
	})
	// jwt is a compact JWS or JWE: base64url of a JSON object ("eyJ") and dot-separated parts.
	jwt = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)*`)
	})
	// secretKV is a name=value or "name": "value" pair whose name says it is a secret.
	secretKV = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:access|refresh|id)_token|client_secret|code_verifier|registration_access_token|assertion|password|api[_-]?key|\bcode)("?\s*[:=]\s*"?)[^\s"&,;]+`)
	})
	// longRun is a run of base64, base64url or hex characters long enough to be a key or a
	// token; looksRandom decides.
	longRun = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/=_-]{24,}`) })
)

// Scrub removes from text whatever looks like a credential, whatever its source: PEM blocks,
// the value after "Bearer", "DPoP" or "Basic", JWTs, the values of parameters named like
// secrets (access_token=…, "client_secret": …, code=…), and long runs of base64 or hex that
// look random. It is the last pass over a report that a person will paste in public, behind
// the redaction of known URLs (package redact): it does not know the secrets, so it errs on
// the side of taking out too much (a long client id goes too).
func Scrub(text string) string {
	text = pemBlock().ReplaceAllString(text, Redacted)
	text = jwt().ReplaceAllString(text, Redacted)
	text = authHeader().ReplaceAllStringFunc(text, func(m string) string {
		sub := authHeader().FindStringSubmatch(m)
		if !strings.ContainsAny(sub[3], "0123456789") {
			return m
		}
		return sub[1] + sub[2] + Redacted
	})
	text = secretKV().ReplaceAllStringFunc(text, func(m string) string {
		sub := secretKV().FindStringSubmatch(m)
		if strings.Contains(m, "REDACTED") {
			return m // redacted already (api_key=REDACTED)
		}
		return sub[1] + sub[2] + Redacted
	})
	return longRun().ReplaceAllStringFunc(text, func(run string) string {
		if looksRandom(run) {
			return Redacted
		}
		return run
	})
}

// looksRandom tells a key or token from a long word, name or path: it mixes letters and
// digits (and, being long, both cases or hex), and, if it holds slashes (standard base64
// does, about one in 64 characters), far fewer than a path would.
func looksRandom(run string) bool {
	if strings.Contains(run, Redacted) {
		return false
	}
	var upper, lower, digit, slash int
	for _, r := range run {
		switch {
		case unicode.IsUpper(r):
			upper++
		case unicode.IsLower(r):
			lower++
		case unicode.IsDigit(r):
			digit++
		case r == '/':
			slash++
		}
	}
	if digit == 0 || upper+lower == 0 {
		return false
	}
	if slash > 0 && (len(run) < 40 || slash > len(run)/16) {
		return false // a path: /tmp/Test123/001/mcp-broker
	}
	return true
}
