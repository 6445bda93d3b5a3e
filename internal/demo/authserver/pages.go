package authserver

import (
	"bytes"
	"html/template"
	"net/http"
)

// consentData fills consentTemplate.
type consentData struct {
	ClientName string
	ClientID   string
	Scopes     []string
	Resource   string
	Action     string
	RequestID  string
	Issuer     string
	User       string
}

// errorData fills errorTemplate.
type errorData struct {
	Title   string
	Message string
	Status  string
}

// pageStyle is shared by both pages: plain, readable, no external assets.
const pageStyle = `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:30rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin:0 0 1rem}
ul{padding-left:1.2rem}
code{background:#eef0f4;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
.muted{color:#5b6475;font-size:.9rem}
.buttons{display:flex;gap:.75rem;margin-top:1.5rem}
button{flex:1;font-size:1rem;padding:.6rem;border-radius:8px;border:1px solid #c5cad3;background:#fff;cursor:pointer}
button#allow{background:#2456d6;border-color:#2456d6;color:#fff}
</style>`

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Authorize {{.ClientName}}</title>` + pageStyle + `</head>
<body><main>
<h1><strong id="client-name">{{.ClientName}}</strong> wants to access your account</h1>
{{if .Scopes}}<p>It asks for these permissions:</p>
<ul id="scopes">{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{else}}<p id="scopes">It asks for no specific permissions.</p>{{end}}
{{if .Resource}}<p>Access will be limited to <code id="resource">{{.Resource}}</code>.</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<p><label for="user">Signed in as</label> <input id="user" name="user" value="{{.User}}" size="24" autocomplete="off"></p>
<div class="buttons">
<button id="deny" name="decision" value="deny">Deny</button>
<button id="allow" name="decision" value="allow">Allow</button>
</div>
</form>
<p class="muted">Client ID: <code>{{.ClientID}}</code><br>Authorization server: <code>{{.Issuer}}</code></p>
</main></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>` + pageStyle + `</head>
<body><main>
<h1 id="error-title">{{.Title}}</h1>
<p id="error-message">{{.Message}}</p>
<p class="muted">HTTP {{.Status}}</p>
</main></body></html>
`))

// writeHTML renders t into a buffer first, so a template error cannot leave
// half a page behind. Pages may not be framed (clickjacking the Allow button)
// nor cached. The CSP has no form-action: browsers apply it to the redirect
// that follows the form, which goes to the client's loopback URI.
func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "rendering page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// deviceCodeData fills deviceCodeTemplate.
type deviceCodeData struct {
	Action   string
	UserCode string // filled in from verification_uri_complete
	Problem  string // why the code typed was not taken
}

// deviceDoneData fills deviceDoneTemplate.
type deviceDoneData struct {
	Title   string
	Message string
}

// deviceCodeTemplate asks for the user code a device shows (RFC 8628 §3.3).
var deviceCodeTemplate = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in a device</title>` + pageStyle + `</head>
<body><main>
<h1>Sign in a device</h1>
<p>Enter the code your device shows.</p>
{{if .Problem}}<p id="device-problem">{{.Problem}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input id="user_code" name="user_code" value="{{.UserCode}}" autocomplete="off" autocapitalize="characters" spellcheck="false" required>
<div class="buttons"><button id="continue" type="submit">Continue</button></div>
</form>
</main></body></html>
`))

// deviceDoneTemplate says how a device sign-in was answered.
var deviceDoneTemplate = template.Must(template.New("device-done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>` + pageStyle + `</head>
<body><main>
<h1 id="device-done">{{.Title}}</h1>
<p>{{.Message}}</p>
</main></body></html>
`))
