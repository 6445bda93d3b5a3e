//go:build providers

package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestHydraLoginApp drives hydra's authorization endpoint through the login and consent app
// with a plain HTTP client, along the paths the sign-in tests do not take: a wrong password
// shows the form again, and Deny ends the request with access_denied at the client.
func TestHydraLoginApp(t *testing.T) {
	in := Require(t)
	h := StartHydra(t, in, HydraOptions{})
	const redirect = "http://127.0.0.1:1/cb" // never reached: the client stops there
	var client struct {
		ID string `json:"client_id"`
	}
	post(t, h.Admin+"/admin/clients", map[string]any{
		"client_name": "login app test", "redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}, "scope": "openid",
	}, &client)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var arrived *url.URL
	hc := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), redirect) {
			arrived = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	conf := oauth2.Config{ClientID: client.ID, RedirectURL: redirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: h.Issuer + "/oauth2/auth", TokenURL: h.Issuer + "/oauth2/token"}}
	verifier := oauth2.GenerateVerifier()
	page := get(t, hc, conf.AuthCodeURL("state-of-the-test", oauth2.S256ChallengeOption(verifier)))
	if !strings.Contains(page, `id="login"`) {
		t.Fatalf("hydra did not send the browser to the login page: %.500s", page)
	}
	challenge := hidden(t, page)

	page = postForm(t, hc, h.Login, "/login", url.Values{"challenge": {challenge}, "username": {h.Username}, "password": {"wrong"}})
	if !strings.Contains(page, `id="error"`) || !strings.Contains(page, `id="login"`) {
		t.Fatalf("a wrong password did not show the form again with an error: %.500s", page)
	}
	page = postForm(t, hc, h.Login, "/login", url.Values{"challenge": {challenge}, "username": {h.Username}, "password": {h.Password}})
	if !strings.Contains(page, `id="allow"`) || !strings.Contains(page, "openid") {
		t.Fatalf("the login did not lead to the consent page naming the scope: %.500s", page)
	}
	postForm(t, hc, h.Login, "/consent", url.Values{"challenge": {hidden(t, page)}, "decision": {"deny"}})
	if arrived == nil {
		t.Fatal("Deny did not send the browser back to the client")
	}
	if q := arrived.Query(); q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "state-of-the-test" {
		t.Errorf("Deny came back to the client with %v, want error=access_denied and the state, no code", q)
	}
	if st := h.Login.Stats(); st.LoginPages != 2 || st.Logins != 1 || st.ConsentPages != 1 || st.Consents != 0 || st.Denied != 1 {
		t.Errorf("stats = %+v", st)
	}
}

var hiddenChallenge = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// hidden returns the challenge in a page's form.
func hidden(t *testing.T, page string) string {
	t.Helper()
	m := hiddenChallenge.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no challenge in the page: %.500s", page)
	}
	return m[1]
}

func get(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return body(t, resp)
}

// postForm posts a form to the app's path, following the redirects that follow.
func postForm(t *testing.T, hc *http.Client, app *LoginApp, path string, form url.Values) string {
	t.Helper()
	resp, err := hc.PostForm(app.url+path, form)
	if err != nil && !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatal(err)
	}
	return body(t, resp)
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// post posts JSON to hydra's admin API and decodes the answer into out.
func post(t *testing.T, u string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	data := body(t, resp)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s: %.300s", u, resp.Status, data)
	}
	if err := json.Unmarshal([]byte(data), out); err != nil {
		t.Fatal(err)
	}
}
