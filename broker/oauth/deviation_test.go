package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// TestTokenResponseDeviations: expires_in as a string or missing and token_type missing or in
// lower case are read, each reported; a form-encoded answer is read as x/oauth2 reads it.
func TestTokenResponseDeviations(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		expiry      time.Duration // 0: none known
		tokenType   string
		deviations  []Deviation
	}{
		{"as the RFC has it", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":3600}`, time.Hour, "Bearer", nil},
		{"expires_in as a string", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":"3600"}`, time.Hour, "Bearer", []Deviation{DeviationExpiresInString}},
		{"expires_in as a string with spaces", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":" 60 "}`, time.Minute, "Bearer", []Deviation{DeviationExpiresInString}},
		{"expires_in as a float", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":3600.0}`, time.Hour, "Bearer", nil},
		{"no expires_in", "application/json", `{"access_token":"AT","token_type":"Bearer"}`, 0, "Bearer", []Deviation{DeviationNoExpiresIn}},
		{"expires_in null", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":null}`, 0, "Bearer", []Deviation{DeviationNoExpiresIn}},
		{"expires_in an empty string", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":""}`, 0, "Bearer", []Deviation{DeviationNoExpiresIn}},
		{"expires_in not a number", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":"soon"}`, 0, "Bearer", []Deviation{DeviationNoExpiresIn}},
		{"expires_in zero", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":0}`, 0, "Bearer", []Deviation{DeviationNoExpiresIn}},
		{"token_type in lower case", "application/json", `{"access_token":"AT","token_type":"bearer","expires_in":60}`, time.Minute, "Bearer", []Deviation{DeviationTokenTypeCase}},
		{"no token_type", "application/json", `{"access_token":"AT","expires_in":60}`, time.Minute, "Bearer", []Deviation{DeviationNoTokenType}},
		{"both at once", "application/json", `{"access_token":"AT","expires_in":"60"}`, time.Minute, "Bearer", []Deviation{DeviationNoTokenType, DeviationExpiresInString}},
		{"another token type is kept", "application/json", `{"access_token":"AT","token_type":"DPoP","expires_in":60}`, time.Minute, "DPoP", nil},
		{"form-encoded", "application/x-www-form-urlencoded", `access_token=AT&token_type=bearer&expires_in=60&scope=repo`, time.Minute, "Bearer", []Deviation{DeviationTokenTypeCase}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := &Client{ID: "cid", AuthMethod: AuthNone}
			before := time.Now()
			tok, err := Refresh(t.Context(), nil, srv.URL, c, "RT", "", "")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "AT" || tok.TokenType != tt.tokenType || !slices.Equal(tok.Deviations, tt.deviations) {
				t.Errorf("token type %q, deviations %v; want %q, %v", tok.TokenType, tok.Deviations, tt.tokenType, tt.deviations)
			}
			switch {
			case tt.expiry == 0 && !tok.Expiry.IsZero():
				t.Errorf("expiry %v, want none known", tok.Expiry)
			case tt.expiry != 0 && (tok.Expiry.Before(before.Add(tt.expiry)) || tok.Expiry.After(time.Now().Add(tt.expiry))):
				t.Errorf("expiry in %v, want %v", time.Until(tok.Expiry), tt.expiry)
			}
		})
	}
}

// jsonOnlyEndpoint is a token endpoint that reads only JSON bodies and answers a form as
// refuse says; it records the content type of every request.
type jsonOnlyEndpoint struct {
	refuse func(w http.ResponseWriter)
	answer string // the answer to a JSON request
	status int    // its status; 0 means 200

	mu    sync.Mutex
	types []string
	body  map[string]string // the last JSON body
}

func (e *jsonOnlyEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.types = append(e.types, ct)
	w.Header().Set("Content-Type", "application/json")
	if ct != "application/json" {
		e.refuse(w)
		return
	}
	e.body = map[string]string{}
	_ = json.NewDecoder(r.Body).Decode(&e.body)
	if e.status != 0 {
		w.WriteHeader(e.status)
	}
	_, _ = io.WriteString(w, e.answer)
}

func (e *jsonOnlyEndpoint) contentTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.types)
}

func refuseWith(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// memoryFormats is a BodyFormats in memory.
type memoryFormats struct {
	mu   sync.Mutex
	json map[string]bool
}

func (m *memoryFormats) JSON(endpoint string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.json[endpoint]
}

func (m *memoryFormats) LearnedJSON(_ context.Context, endpoint string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.json == nil {
		m.json = map[string]bool{}
	}
	m.json[endpoint] = true
}

// TestJSONOnlyTokenEndpoint: a form the token endpoint shows it never read is sent again as
// JSON, once; the endpoint is remembered, and the next request goes as JSON at once.
func TestJSONOnlyTokenEndpoint(t *testing.T) {
	refusals := map[string]func(http.ResponseWriter){
		"415":                                refuseWith(http.StatusUnsupportedMediaType, `{"error":"unsupported_media_type"}`),
		"content type named":                 refuseWith(http.StatusBadRequest, `{"error":"invalid_request","error_description":"Content-Type must be application/json"}`),
		"a parameter we sent called missing": refuseWith(http.StatusBadRequest, `{"error":"invalid_request","error_description":"grant_type is required"}`),
		"undefined grant type":               refuseWith(http.StatusBadRequest, `{"error":"unsupported_grant_type","error_description":"Unsupported grant type: undefined"}`),
		"a JSON parser's complaint":          refuseWith(http.StatusInternalServerError, `SyntaxError: Unexpected token g in JSON at position 0`),
		"no client_id":                       refuseWith(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"no client_id"}`),
	}
	for name, refuse := range refusals {
		t.Run(name, func(t *testing.T) {
			e := &jsonOnlyEndpoint{refuse: refuse, answer: okBody}
			srv := httptest.NewServer(e)
			defer srv.Close()
			formats := &memoryFormats{}
			ctx := WithBodyFormats(t.Context(), formats)
			c := &Client{ID: "cid", AuthMethod: AuthNone}
			req := &AuthRequest{Verifier: "v", RedirectURI: "http://127.0.0.1:1/cb", Resource: "https://mcp.example/mcp"}
			tok, err := Exchange(ctx, nil, srv.URL, c, req, "the-code")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tok.Deviations, DeviationJSONBody) {
				t.Errorf("deviations %v, want %s", tok.Deviations, DeviationJSONBody)
			}
			if got := e.contentTypes(); !slices.Equal(got, []string{"application/x-www-form-urlencoded", "application/json"}) {
				t.Errorf("requests %v, want a form then JSON", got)
			}
			for k, want := range map[string]string{"grant_type": "authorization_code", "code": "the-code", "code_verifier": "v", "client_id": "cid", "resource": "https://mcp.example/mcp"} {
				if e.body[k] != want {
					t.Errorf("JSON %s = %q, want %q", k, e.body[k], want)
				}
			}
			if !formats.JSON(srv.URL) {
				t.Fatal("the endpoint was not remembered")
			}
			// Remembered: the refresh goes as JSON at once.
			if _, err := Refresh(ctx, nil, srv.URL, c, "RT", "", ""); err != nil {
				t.Fatal(err)
			}
			if got := e.contentTypes(); len(got) != 3 || got[2] != "application/json" {
				t.Errorf("requests %v, want the refresh sent as JSON at once", got)
			}
		})
	}
}

// TestJSONRetryOnlyOnClearSigns: refusals a form-reading server gives are not retried as
// JSON; a retry that JSON does not help is reported with the form's refusal, and teaches
// nothing.
func TestJSONRetryOnlyOnClearSigns(t *testing.T) {
	for name, body := range map[string]string{
		"a bare invalid_request":        `{"error":"invalid_request"}`,
		"a real unsupported_grant_type": `{"error":"unsupported_grant_type","error_description":"refresh tokens are not issued"}`,
		"invalid_grant":                 `{"error":"invalid_grant","error_description":"the refresh token is invalid"}`,
		"a parameter we did not send":   `{"error":"invalid_request","error_description":"code_verifier is required"}`,
		"a JWT, not a JSON body":        `{"error":"invalid_client","error_description":"the JSON Web Token is expired"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := &jsonOnlyEndpoint{refuse: refuseWith(http.StatusBadRequest, body), answer: okBody}
			srv := httptest.NewServer(e)
			defer srv.Close()
			formats := &memoryFormats{}
			_, err := Refresh(WithBodyFormats(t.Context(), formats), nil, srv.URL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT", "", "")
			var te *TokenError
			if !errors.As(err, &te) || te.AlsoAsJSON {
				t.Fatalf("err = %v, want the form's refusal alone", err)
			}
			if got := e.contentTypes(); len(got) != 1 || formats.JSON(srv.URL) {
				t.Errorf("requests %v, remembered %v: want one form request and nothing learnt", got, formats.JSON(srv.URL))
			}
		})
	}

	t.Run("refused as JSON too", func(t *testing.T) {
		e := &jsonOnlyEndpoint{
			refuse: refuseWith(http.StatusUnsupportedMediaType, `{"error":"invalid_request","error_description":"unsupported content type"}`),
			status: http.StatusBadRequest, answer: `{"error":"invalid_grant","error_description":"the refresh token was already used"}`,
		}
		srv := httptest.NewServer(e)
		defer srv.Close()
		formats := &memoryFormats{}
		_, err := Refresh(WithBodyFormats(t.Context(), formats), nil, srv.URL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT-secret", "", "")
		var te *TokenError
		if !errors.As(err, &te) || te.Status != http.StatusUnsupportedMediaType || !te.AlsoAsJSON {
			t.Fatalf("err = %v, want the form's 415 marked as refused as JSON too", err)
		}
		if !strings.Contains(err.Error(), "unsupported content type") || !strings.Contains(err.Error(), "as JSON, it was refused too") || strings.Contains(err.Error(), "RT-secret") {
			t.Errorf("error %q", err)
		}
		if IsInvalidGrant(err) || formats.JSON(srv.URL) {
			t.Error("the JSON refusal was taken for the answer, or JSON was learnt from it")
		}
	})
}

// TestRevokeJSONOnly: the revocation endpoint gets the same treatment.
func TestRevokeJSONOnly(t *testing.T) {
	e := &jsonOnlyEndpoint{refuse: refuseWith(http.StatusUnsupportedMediaType, `{}`)}
	srv := httptest.NewServer(e)
	defer srv.Close()
	formats := &memoryFormats{}
	if err := Revoke(WithBodyFormats(t.Context(), formats), nil, srv.URL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT", HintRefreshToken); err != nil {
		t.Fatal(err)
	}
	if e.body["token"] != "RT" || e.body["token_type_hint"] != HintRefreshToken || !formats.JSON(srv.URL) {
		t.Errorf("JSON body %v, learnt %v", e.body, formats.JSON(srv.URL))
	}
}

// TestProbeTokenEndpoint: doctor's probe tells a token endpoint that reads forms from one that
// reads only JSON, and from one that reads neither, without a secret.
func TestProbeTokenEndpoint(t *testing.T) {
	var sent []url.Values
	var mu sync.Mutex
	formReader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		sent = append(sent, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
	}))
	defer formReader.Close()
	p, err := ProbeTokenEndpoint(t.Context(), nil, formReader.URL)
	if err != nil || p.FormStatus != 401 || p.RefusedForm || p.JSONStatus != 0 {
		t.Errorf("form reader: %+v, %v", p, err)
	}
	if len(sent) != 1 || sent[0].Get("client_id") != ProbeClientID || sent[0].Has("code") {
		t.Errorf("probe sent %v", sent)
	}

	jsonOnly := httptest.NewServer(&jsonOnlyEndpoint{refuse: refuseWith(http.StatusBadRequest, `{"error":"invalid_request","error_description":"grant_type is required"}`),
		status: http.StatusBadRequest, answer: `{"error":"invalid_request","error_description":"code is required"}`})
	defer jsonOnly.Close()
	if p, err := ProbeTokenEndpoint(t.Context(), nil, jsonOnly.URL); err != nil || !p.RefusedForm || p.JSONStatus != 400 || !p.ReadJSON {
		t.Errorf("JSON-only: %+v, %v", p, err)
	}

	neither := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnsupportedMediaType)
	}))
	defer neither.Close()
	if p, err := ProbeTokenEndpoint(t.Context(), nil, neither.URL); err != nil || !p.RefusedForm || p.ReadJSON {
		t.Errorf("neither: %+v, %v", p, err)
	}
}

// TestRegistrationDeviations: a 200 answer and an answer without redirect_uris are taken; one
// that registered another loopback redirect URI gives the client that URI; one that registered
// only redirect URIs no loopback receiver can serve is refused.
func TestRegistrationDeviations(t *testing.T) {
	const ours = "http://127.0.0.1:5555/callback"
	tests := []struct {
		name       string
		status     int
		uris       []string // the redirect_uris of the answer; nil leaves them out
		redirect   string   // the client's redirect URI; "" means refused
		deviations []Deviation
	}{
		{"as the RFC has it", http.StatusCreated, []string{ours}, ours, nil},
		{"200 instead of 201", http.StatusOK, []string{ours}, ours, []Deviation{DeviationRegistration200}},
		{"no redirect_uris", http.StatusCreated, nil, ours, []Deviation{DeviationNoRedirectURIs}},
		{"ours among others", http.StatusCreated, []string{"https://app.example.com/cb", ours}, ours, nil},
		{"another loopback URI", http.StatusOK, []string{"https://app.example.com/cb", "http://localhost:3000/oauth/callback"},
			"http://localhost:3000/oauth/callback", []Deviation{DeviationRegistration200, DeviationOtherRedirectURI}},
		{"only a web redirect URI", http.StatusCreated, []string{"https://app.example.com/cb"}, "", nil},
		{"a loopback URI without a port", http.StatusCreated, []string{"http://127.0.0.1/cb"}, "", nil},
		{"a loopback URI with a query", http.StatusCreated, []string{"http://127.0.0.1:3000/cb?x=1"}, "", nil},
		{"https on loopback", http.StatusCreated, []string{"https://127.0.0.1:3000/cb"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_ = json.NewEncoder(w).Encode(map[string]any{"client_id": "c", "token_endpoint_auth_method": "none", "redirect_uris": tt.uris})
			}))
			defer srv.Close()
			c, err := Register(t.Context(), nil, RegistrationParams{Endpoint: srv.URL, Issuer: "https://as", AuthMethods: []string{AuthNone}, RedirectURI: ours})
			if tt.redirect == "" {
				var refused *RedirectURIsError
				if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.uris[0]) || !strings.Contains(err.Error(), ours) {
					t.Fatalf("Register = %+v, %v; want a RedirectURIsError naming both", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RedirectURI != tt.redirect || !slices.Equal(c.Deviations, tt.deviations) {
				t.Errorf("redirect %q, deviations %v; want %q, %v", c.RedirectURI, c.Deviations, tt.redirect, tt.deviations)
			}
		})
	}
}

// TestDeviationsDescribed: every deviation has words for people.
func TestDeviationsDescribed(t *testing.T) {
	for _, d := range []Deviation{DeviationJSONBody, DeviationExpiresInString, DeviationNoExpiresIn, DeviationNoTokenType,
		DeviationTokenTypeCase, DeviationRegistration200, DeviationNoRedirectURIs, DeviationOtherRedirectURI} {
		if d.Describe() == string(d) || d.Describe() == "" {
			t.Errorf("%s has no description", d)
		}
	}
	if got := Deviation("from-a-newer-version").Describe(); got != "from-a-newer-version" {
		t.Errorf("unknown deviation described as %q", got)
	}
}

// TestRefusedForm: the judge of a refusal, on the cases between clear signs and none.
func TestRefusedForm(t *testing.T) {
	sent := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_id": {"cid"}}
	tests := []struct {
		status int
		body   string
		want   bool
	}{
		{415, ``, true},
		{400, `{"error":"invalid_request","error_description":"Expected a JSON body"}`, true},
		{400, `{"message":"request body must be JSON"}`, true},
		{400, `{"error":"invalid_request","error_description":"Unsupported Media Type"}`, true},
		{422, `{"detail":[{"loc":["body","grant_type"],"msg":"field required"}]}`, true},
		{400, `{"error":"invalid_request","error_description":"missing required parameter: code"}`, true},
		{400, `{"error":"invalid_request","error_description":"code_verifier is required"}`, false}, // not sent, and code is another word
		{400, `{"error":"invalid_request","error_description":"the code has expired"}`, false},
		{400, `{"error":"invalid_grant","error_description":"JSON Web Token expired"}`, false},
		{404, `{"error":"grant_type is required"}`, false}, // not a refusal of the request's body
		{500, `{"error":"grant_type is required"}`, false}, // a server error says too little
		{500, `Unexpected token g in JSON at position 0`, true},
		{200, `{"error":"grant_type is required"}`, false},
	}
	for _, tt := range tests {
		if got := refusedForm(tt.status, nil, []byte(tt.body), sent); got != tt.want {
			t.Errorf("refusedForm(%d, %s) = %v, want %v", tt.status, tt.body, got, tt.want)
		}
	}
	// The media types a refusal says it takes.
	for accept, want := range map[string]bool{"application/json": true, "application/json, application/x-www-form-urlencoded": false, "text/plain": false} {
		if got := refusedForm(400, http.Header{"Accept-Post": {accept}}, []byte(`{"error":"invalid_request"}`), sent); got != want {
			t.Errorf("refusedForm with Accept-Post %q = %v, want %v", accept, got, want)
		}
	}
}

// TestJSONOnlyWithDPoPNonce: a token endpoint that reads only JSON and asks for a DPoP nonce:
// the form is refused unread, the JSON request is asked for the nonce, which shows the server
// read it, and the request made again with the nonce goes as JSON at once and gets the token.
func TestJSONOnlyWithDPoPNonce(t *testing.T) {
	key, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	prover, err := dpop.NewProver(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	inner := &dpopEndpoint{t: t, nonce: "n-1"}
	var mu sync.Mutex
	var types []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mu.Lock()
		types = append(types, ct)
		mu.Unlock()
		if ct != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	formats := &memoryFormats{}
	ctx := WithBodyFormats(WithDPoP(t.Context(), prover, &dpop.Nonces{}), formats)
	tok, err := Refresh(ctx, nil, srv.URL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" || tok.DPoPJKT == "" || !slices.Contains(tok.Deviations, DeviationJSONBody) || !formats.JSON(srv.URL) {
		t.Errorf("token %+v, learnt %v", tok, formats.JSON(srv.URL))
	}
	if !slices.Equal(types, []string{"application/x-www-form-urlencoded", "application/json", "application/json"}) {
		t.Errorf("requests %v, want the form, JSON asked for the nonce, JSON with it", types)
	}
}

// TestRefreshTokenLifetime: the refresh token's own lifetime is read under Keycloak's name
// (refresh_expires_in) and GitHub's (refresh_token_expires_in), as a number or a string, in
// JSON or a form; absent, 0 (Keycloak's offline token) or nonsense is no lifetime known.
func TestRefreshTokenLifetime(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        time.Duration // 0: none known
	}{
		{"none said", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":300,"refresh_token":"RT"}`, 0},
		{"Keycloak", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":300,"refresh_expires_in":1800,"refresh_token":"RT"}`, 30 * time.Minute},
		{"Keycloak offline token", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":300,"refresh_expires_in":0,"refresh_token":"RT"}`, 0},
		{"GitHub App", "application/json", `{"access_token":"AT","token_type":"bearer","expires_in":28800,"refresh_token_expires_in":15811200,"refresh_token":"RT"}`, 15811200 * time.Second},
		{"as a string", "application/json", `{"access_token":"AT","token_type":"Bearer","refresh_token_expires_in":"3600","refresh_token":"RT"}`, time.Hour},
		{"nonsense", "application/json", `{"access_token":"AT","token_type":"Bearer","refresh_expires_in":"later","refresh_token":"RT"}`, 0},
		{"form-encoded", "application/x-www-form-urlencoded", `access_token=AT&token_type=bearer&expires_in=28800&refresh_token=RT&refresh_token_expires_in=7200`, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			before := time.Now()
			tok, err := Refresh(t.Context(), nil, srv.URL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT", "", "")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == 0 && !tok.RefreshExpiry.IsZero():
				t.Errorf("refresh expiry %v, want none known", tok.RefreshExpiry)
			case tt.want != 0 && (tok.RefreshExpiry.Before(before.Add(tt.want)) || tok.RefreshExpiry.After(time.Now().Add(tt.want))):
				t.Errorf("refresh token expires in %v, want %v", time.Until(tok.RefreshExpiry), tt.want)
			}
		})
	}
}
