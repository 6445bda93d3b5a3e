package traffic

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"

	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// Redacted stands in for every value taken out.
const Redacted = "REDACTED"

// secretFields are the names of members whose string values are credentials, lowercased and
// without '_' and '-': OAuth's parameters (RFC 6749, 7636, 8693, 7523, 8628), HTTP's
// credential headers, and what API keys are commonly called.
var secretFields = map[string]bool{
	"accesstoken": true, "refreshtoken": true, "idtoken": true, "token": true, "code": true,
	"codeverifier": true, "clientsecret": true, "clientassertion": true, "assertion": true,
	"subjecttoken": true, "actortoken": true, "devicecode": true, "authorization": true,
	"proxyauthorization": true, "dpop": true, "cookie": true, "setcookie": true,
	"password": true, "secret": true, "apikey": true, "xapikey": true, "privatekey": true,
	"sessiontoken": true, "bearer": true, "credential": true, "credentials": true,
}

// fieldSeparators are taken out of a member name before it is looked up in secretFields. A
// Replacer builds its tables at first use, not here.
var fieldSeparators = strings.NewReplacer("_", "", "-", "")

// secretField reports whether a member name names a credential.
func secretField(name string) bool {
	return secretFields[strings.ToLower(fieldSeparators.Replace(name))]
}

// Compiled at first use, not at init: every start of the bridge links this package, and
// compiling its expressions up front would add to each one.
var (
	// schemeValue is an Authorization value inside a text: "Bearer abc", "DPoP abc", "Basic …".
	schemeValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\b(bearer|dpop|basic)\s+[A-Za-z0-9\-._~+/]+=*`) })
	// jwt is a JSON Web Token (or JWS) anywhere in a text.
	jwt = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	})
	// urlParam is a credential in a URL's query or a form: access_token=…, code=….
	urlParam = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|token|code|code_verifier|client_secret|client_assertion|assertion|api_key|apikey|key|password|subject_token|device_code)=([^&\s"'#]+)`)
	})
)

// Text returns s with every credential found in it removed: Authorization values, JWTs,
// credential URL parameters, the secrets of the server URL serverURL (see redact.Text), and
// each of known (the secrets the caller holds) wherever it appears.
func Text(s, serverURL string, known []string) string {
	for _, k := range known {
		if len(k) >= 8 {
			s = strings.ReplaceAll(s, k, Redacted)
		}
	}
	if serverURL != "" {
		s = redact.Text(s, serverURL)
	}
	s = schemeValue().ReplaceAllString(s, "$1 "+Redacted)
	s = jwt().ReplaceAllString(s, Redacted)
	return urlParam().ReplaceAllString(s, "$1="+Redacted)
}

// Body returns a JSON message with every credential removed: the string values of members
// named like credentials (secretField) become Redacted, wherever they are nested, and every
// other string goes through Text. Numbers keep their digits. A message that is not JSON gives
// nil: it is not shown at all rather than shown unredacted.
func Body(msg []byte, serverURL string, known []string) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil
	}
	out, err := json.Marshal(scrub(v, serverURL, known))
	if err != nil {
		return nil
	}
	return out
}

func scrub(v any, serverURL string, known []string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			secret := secretField(k)
			if s, ok := x.(string); ok && secret {
				if s != "" {
					v[k] = Redacted
				}
				continue
			}
			if secret {
				if _, isObject := x.(map[string]any); !isObject {
					if _, isNumber := x.(json.Number); !isNumber {
						// An array of credentials, say; an object is walked (its members have
						// names of their own), a number is an error code.
						v[k] = Redacted
						continue
					}
				}
			}
			v[k] = scrub(x, serverURL, known)
		}
		// Keys can hold secrets too ("?sk-…" has nothing but a key).
		for k, x := range v {
			if red := Text(k, serverURL, known); red != k {
				delete(v, k)
				v[red] = x
			}
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = scrub(x, serverURL, known)
		}
		return v
	case string:
		return Text(v, serverURL, known)
	}
	return v
}
