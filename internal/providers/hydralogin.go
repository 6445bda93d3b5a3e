package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// LoginApp is hydra's login and consent app: hydra sends the browser to its /login and
// /consent pages with a challenge, and it asks hydra's admin API about the challenge, shows a
// page, and tells the admin API what the person decided (the "login & consent flow" of
// hydra's documentation). It knows one account, Username with Password; the consent page
// grants the scopes and audiences the client asked for, or denies them.
//
// The pages are plain HTML forms: #username, #password and #login on the login page, #allow
// and #deny on the consent page. The challenge travels in a hidden field; hydra ties it to the
// browser with its own CSRF cookies, which is why the pages need none of their own.
type LoginApp struct {
	url      string // where it serves
	admin    string // hydra's admin API base URL
	username string
	password string
	hc       *http.Client

	mu    sync.Mutex
	stats LoginStats
}

// LoginStats counts what the app did.
type LoginStats struct {
	// Logins counts accepted logins: a form sent with the right password, or one hydra
	// remembered (skip).
	Logins int
	// LoginPages counts login forms shown.
	LoginPages int
	// Consents counts accepted consents; ConsentPages the consent pages shown.
	Consents, ConsentPages int
	// Denied counts consents refused with #deny.
	Denied int
}

// adminTimeout bounds each call to hydra's admin API.
const adminTimeout = 10 * time.Second

// newLoginApp returns the app for hydra's admin API at admin.
func newLoginApp(admin, username, password string) *LoginApp {
	return &LoginApp{admin: admin, username: username, password: password, hc: &http.Client{Timeout: adminTimeout}}
}

// Stats returns the counts so far.
func (a *LoginApp) Stats() LoginStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

func (a *LoginApp) count(f func(*LoginStats)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.stats)
}

// ServeHTTP serves /login and /consent.
func (a *LoginApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		a.login(w, r)
	case "/consent":
		a.consent(w, r)
	default:
		http.NotFound(w, r)
	}
}

// client is the part of hydra's OAuth2 client the pages show.
type client struct {
	ID   string `json:"client_id"`
	Name string `json:"client_name"`
}

// loginRequest is hydra's OAuth2LoginRequest, as far as the app reads it.
type loginRequest struct {
	Skip    bool   `json:"skip"`
	Subject string `json:"subject"`
	Client  client `json:"client"`
}

// consentRequest is hydra's OAuth2ConsentRequest, as far as the app reads it.
type consentRequest struct {
	Skip      bool     `json:"skip"`
	Subject   string   `json:"subject"`
	Client    client   `json:"client"`
	Scopes    []string `json:"requested_scope"`
	Audiences []string `json:"requested_access_token_audience"`
}

// redirect is the answer of hydra's accept and reject calls.
type redirect struct {
	To string `json:"redirect_to"`
}

var pages = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to continue to {{.Client}}</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<label>User name <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="login" type="submit">Sign in</button>
</form></body></html>
{{define "consent"}}<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Allow access?</title></head><body>
<h1>{{.Client}} asks for access to your account ({{.Subject}})</h1>
<ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/consent">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<button id="allow" name="decision" value="allow" type="submit">Allow</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form></body></html>{{end}}`))

// page is what the templates show.
type page struct {
	Challenge, Client, Subject, Error string
	Scopes                            []string
}

func (c client) display() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

func (a *LoginApp) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		challenge := r.URL.Query().Get("login_challenge")
		var req loginRequest
		if err := a.call(ctx, http.MethodGet, "login", challenge, nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if req.Skip {
			// hydra remembers this browser's login: it must be accepted as it is.
			a.accept(w, r, "login", challenge, map[string]any{"subject": req.Subject})
			return
		}
		a.count(func(s *LoginStats) { s.LoginPages++ })
		a.show(w, "login", page{Challenge: challenge, Client: req.Client.display()})
	case http.MethodPost:
		challenge := r.PostFormValue("challenge")
		if r.PostFormValue("username") != a.username || r.PostFormValue("password") != a.password {
			a.count(func(s *LoginStats) { s.LoginPages++ })
			a.show(w, "login", page{Challenge: challenge, Client: "the application", Error: "Wrong user name or password."})
			return
		}
		a.accept(w, r, "login", challenge, map[string]any{"subject": a.username, "remember": false})
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (a *LoginApp) consent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var challenge string
	switch r.Method {
	case http.MethodGet:
		challenge = r.URL.Query().Get("consent_challenge")
	case http.MethodPost:
		challenge = r.PostFormValue("challenge")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var req consentRequest
	if err := a.call(ctx, http.MethodGet, "consent", challenge, nil, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	grant := map[string]any{"grant_scope": req.Scopes, "grant_access_token_audience": req.Audiences, "remember": false}
	switch {
	case r.Method == http.MethodGet && req.Skip:
		a.accept(w, r, "consent", challenge, grant)
	case r.Method == http.MethodGet:
		a.count(func(s *LoginStats) { s.ConsentPages++ })
		a.show(w, "consent", page{Challenge: challenge, Client: req.Client.display(), Subject: req.Subject, Scopes: req.Scopes})
	case r.PostFormValue("decision") == "allow":
		a.accept(w, r, "consent", challenge, grant)
	default:
		a.count(func(s *LoginStats) { s.Denied++ })
		a.finish(w, r, "consent", "reject", challenge, map[string]any{"error": "access_denied", "error_description": "The person denied the request."})
	}
}

// accept accepts the login or consent challenge with body and sends the browser on.
func (a *LoginApp) accept(w http.ResponseWriter, r *http.Request, flow, challenge string, body map[string]any) {
	a.finish(w, r, flow, "accept", challenge, body)
}

// finish accepts or rejects (verb) the challenge and sends the browser where hydra says.
func (a *LoginApp) finish(w http.ResponseWriter, r *http.Request, flow, verb, challenge string, body map[string]any) {
	var to redirect
	if err := a.call(r.Context(), http.MethodPut, flow+"/"+verb, challenge, body, &to); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if verb == "accept" {
		a.count(func(s *LoginStats) {
			if flow == "login" {
				s.Logins++
			} else {
				s.Consents++
			}
		})
	}
	http.Redirect(w, r, to.To, http.StatusFound)
}

func (a *LoginApp) show(w http.ResponseWriter, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// call calls /admin/oauth2/auth/requests/<what>?<flow>_challenge=… on hydra's admin API,
// sending body as JSON (if not nil) and decoding the answer into out.
func (a *LoginApp) call(ctx context.Context, method, what, challenge string, body, out any) error {
	flow, _, _ := strings.Cut(what, "/")
	u := a.admin + "/admin/oauth2/auth/requests/" + what + "?" + url.Values{flow + "_challenge": {challenge}}.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("asking hydra's admin API about the %s: %w", what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading hydra's answer about the %s: %w", what, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hydra's admin API answered %s about the %s: %.300s", resp.Status, what, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding hydra's answer about the %s: %w", what, err)
	}
	return nil
}
