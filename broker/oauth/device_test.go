package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted answers each request with the next of its replies (the last one repeats) and
// records the forms it got.
type scripted struct {
	mu      sync.Mutex
	replies []reply
	forms   []url.Values
	bodies  []string
	basic   []string // the Basic user of each request, "" without
}

type reply struct {
	status int
	body   string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, string(body))
	form, _ := url.ParseQuery(string(body))
	s.forms = append(s.forms, form)
	user, _, _ := r.BasicAuth()
	s.basic = append(s.basic, user)
	rep := s.replies[min(len(s.forms), len(s.replies))-1]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func serve(t *testing.T, replies ...reply) (*scripted, string) {
	t.Helper()
	s := &scripted{replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func TestAuthorizeDevice(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	public := &Client{ID: "cli", AuthMethod: AuthNone}
	tests := []struct {
		name    string
		reply   reply
		client  *Client
		want    *DeviceAuthorization
		wantErr string
	}{
		{
			name:  "complete",
			reply: reply{200, `{"device_code":"dc-SECRET","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device","verification_uri_complete":"https://as.example/device?user_code=WDJB-MJHT","expires_in":1800,"interval":7}`},
			want: &DeviceAuthorization{DeviceCode: "dc-SECRET", UserCode: "WDJB-MJHT", VerificationURI: "https://as.example/device",
				VerificationURIComplete: "https://as.example/device?user_code=WDJB-MJHT", Expiry: now.Add(30 * time.Minute), Interval: 7 * time.Second},
		},
		{
			name:  "Google's verification_url, numbers as strings, no interval",
			reply: reply{200, `{"device_code":"dc","user_code":"ABC-DEF","verification_url":"https://www.google.com/device","expires_in":"600"}`},
			want:  &DeviceAuthorization{DeviceCode: "dc", UserCode: "ABC-DEF", VerificationURI: "https://www.google.com/device", Expiry: now.Add(10 * time.Minute), Interval: 5 * time.Second},
		},
		{
			name:  "lifetime and interval capped",
			reply: reply{200, `{"device_code":"dc","user_code":"A","verification_uri":"https://as.example/d","expires_in":999999,"interval":3600}`},
			want:  &DeviceAuthorization{DeviceCode: "dc", UserCode: "A", VerificationURI: "https://as.example/d", Expiry: now.Add(time.Hour), Interval: time.Minute},
		},
		{name: "error response", reply: reply{400, `{"error":"unauthorized_client","error_description":"not for devices"}`},
			wantErr: "the device authorization endpoint refused the request: unauthorized_client (not for devices)"},
		{name: "no user code", reply: reply{200, `{"device_code":"dc","verification_uri":"https://as.example/d"}`}, wantErr: "no user_code"},
		{name: "no device code", reply: reply{200, `{"user_code":"A","verification_uri":"https://as.example/d"}`}, wantErr: "no device_code"},
		{name: "no verification uri", reply: reply{200, `{"device_code":"dc","user_code":"A"}`}, wantErr: "no verification_uri"},
		{name: "an escape sequence in the user code", reply: reply{200, `{"device_code":"dc","user_code":"A\u001b[2J","verification_uri":"https://as.example/d"}`}, wantErr: "cannot be shown"},
		{name: "not JSON", reply: reply{200, `<html>`}, wantErr: "not a JSON device authorization response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, u := serve(t, tt.reply)
			c := tt.client
			if c == nil {
				c = public
			}
			got, err := AuthorizeDevice(t.Context(), nil, u, c, "mcp:read offline_access", "https://mcp.example/mcp", now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "dc") {
					t.Errorf("the error repeats the device code: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Scope, tt.want.Resource = "mcp:read offline_access", "https://mcp.example/mcp"
			if *got != *tt.want {
				t.Errorf("got %+v\nwant %+v", *got, *tt.want)
			}
			if strings.Contains(got.String(), got.DeviceCode) || strings.Contains(got.GoString(), got.DeviceCode) {
				t.Error("String shows the device code")
			}
			f := ep.forms[0]
			if f.Get("client_id") != "cli" || f.Get("scope") != "mcp:read offline_access" || f.Get("resource") != "https://mcp.example/mcp" || f.Has("code_challenge") {
				t.Errorf("device authorization request = %v", f)
			}
		})
	}
	t.Run("confidential client authenticates as registered", func(t *testing.T) {
		ep, u := serve(t, reply{200, `{"device_code":"dc","user_code":"A","verification_uri":"https://as.example/d"}`})
		c := &Client{ID: "conf", Secret: "s3cret", AuthMethod: AuthClientSecretBasic}
		if _, err := AuthorizeDevice(t.Context(), nil, u, c, "", "", now); err != nil {
			t.Fatal(err)
		}
		if ep.basic[0] != "conf" || ep.forms[0].Has("client_secret") || ep.forms[0].Has("scope") || ep.forms[0].Has("resource") {
			t.Errorf("request = %v (basic %q)", ep.forms[0], ep.basic[0])
		}
	})
}

// fakeWait is a DevicePoll on a fake clock that records each wait.
type fakeWait struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (f *fakeWait) poll() DevicePoll {
	return DevicePoll{
		Now: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
		Wait: func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.waits = append(f.waits, d)
			f.now = f.now.Add(d)
			return ctx.Err()
		},
	}
}

func TestPollDeviceToken(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	pending := reply{400, `{"error":"authorization_pending"}`}
	slowDown := reply{400, `{"error":"slow_down"}`}
	granted := reply{200, `{"access_token":"at-SECRET","token_type":"Bearer","refresh_token":"rt-SECRET","expires_in":3600}`}
	tests := []struct {
		name      string
		replies   []reply
		lifetime  time.Duration
		wantWaits []time.Duration
		wantErr   error
		wantText  string
	}{
		{name: "pending, then granted", replies: []reply{pending, pending, granted}, wantWaits: secs(5, 5, 5)},
		{name: "slow_down adds five seconds for good", replies: []reply{pending, slowDown, pending, slowDown, granted}, wantWaits: secs(5, 5, 10, 10, 15)},
		{name: "denied", replies: []reply{pending, {400, `{"error":"access_denied","error_description":"the user said no"}`}},
			wantWaits: secs(5, 5), wantErr: ErrDeviceDenied, wantText: "the user said no"},
		{name: "expired at the server", replies: []reply{{400, `{"error":"expired_token"}`}}, wantWaits: secs(5), wantErr: ErrDeviceExpired},
		{name: "expired here before the next poll", replies: []reply{pending}, lifetime: 12 * time.Second, wantWaits: secs(5, 5), wantErr: ErrDeviceExpired},
		{name: "another error", replies: []reply{{400, `{"error":"invalid_client"}`}}, wantWaits: secs(5), wantText: "token endpoint refused the device code request: invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, u := serve(t, tt.replies...)
			clock := &fakeWait{now: start}
			lifetime := tt.lifetime
			if lifetime == 0 {
				lifetime = 10 * time.Minute
			}
			da := &DeviceAuthorization{DeviceCode: "dc-SECRET", Interval: 5 * time.Second, Expiry: start.Add(lifetime), Scope: "mcp:read", Resource: "https://mcp.example/mcp"}
			tok, err := PollDeviceToken(t.Context(), nil, u, &Client{ID: "cli", AuthMethod: AuthNone}, da, clock.poll())
			if !slices.Equal(clock.waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", clock.waits, tt.wantWaits)
			}
			if tt.wantErr == nil && tt.wantText == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != "at-SECRET" || tok.RefreshToken != "rt-SECRET" || tok.Scope != "mcp:read" {
					t.Errorf("token = %+v", tok)
				}
			} else if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error = %v, want %v with %q", err, tt.wantErr, tt.wantText)
			}
			for _, f := range ep.forms {
				if f.Get("grant_type") != GrantDeviceCode || f.Get("device_code") != "dc-SECRET" || f.Get("client_id") != "cli" ||
					f.Get("resource") != "https://mcp.example/mcp" || f.Has("code_verifier") || f.Has("scope") {
					t.Errorf("token request = %v", f)
				}
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the error holds a secret: %v", err)
			}
		})
	}
	t.Run("network errors back off", func(t *testing.T) {
		ep, u := serve(t, granted)
		clock := &fakeWait{now: start}
		fails := 2
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if fails > 0 {
				fails--
				return nil, errors.New("connection timed out")
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
		da := &DeviceAuthorization{DeviceCode: "dc", Interval: 5 * time.Second, Expiry: start.Add(time.Hour)}
		if _, err := PollDeviceToken(t.Context(), hc, u, &Client{ID: "cli", AuthMethod: AuthNone}, da, clock.poll()); err != nil {
			t.Fatal(err)
		}
		if want := secs(5, 10, 20); !slices.Equal(clock.waits, want) || len(ep.forms) != 1 {
			t.Errorf("waits = %v (want %v), requests = %d", clock.waits, want, len(ep.forms))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		_, u := serve(t, pending)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		da := &DeviceAuthorization{DeviceCode: "dc", Interval: time.Second, Expiry: time.Now().Add(time.Hour)}
		if _, err := PollDeviceToken(ctx, nil, u, &Client{ID: "cli", AuthMethod: AuthNone}, da, DevicePoll{}); !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
}

func secs(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, n := range s {
		out[i] = time.Duration(n) * time.Second
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRegisterForTheDeviceGrant(t *testing.T) {
	ep, u := serve(t, reply{201, `{"client_id":"dev-1","token_endpoint_auth_method":"none","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"]}`})
	c, err := Register(t.Context(), nil, RegistrationParams{Endpoint: u, Issuer: "https://as.example", AuthMethods: []string{"none"},
		GrantTypes: []string{"authorization_code", "refresh_token", GrantDeviceCode}, Device: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.CanUse(GrantDeviceCode) || c.CanUse("authorization_code") || c.RedirectURI != "" {
		t.Errorf("client = %+v", c)
	}
	var sent struct {
		GrantTypes    []string `json:"grant_types"`
		ResponseTypes []string `json:"response_types"`
		RedirectURIs  []string `json:"redirect_uris"`
		Method        string   `json:"token_endpoint_auth_method"`
		AppType       string   `json:"application_type"`
	}
	if err := json.Unmarshal([]byte(ep.bodies[0]), &sent); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sent.GrantTypes, []string{GrantDeviceCode, "refresh_token"}) || len(sent.ResponseTypes) != 0 || sent.RedirectURIs != nil ||
		sent.Method != AuthNone || sent.AppType != "native" {
		t.Errorf("registration request = %s", ep.bodies[0])
	}
	old := &Client{ID: "x", Kind: KindDynamic} // registered before GrantTypes was kept
	if !old.CanUse("authorization_code") || old.CanUse(GrantDeviceCode) {
		t.Error("a registration without grant types is not taken as the browser flow's")
	}
	if pre := (&Client{ID: "x", Kind: KindPreRegistered}); !pre.CanUse(GrantDeviceCode) {
		t.Error("a pre-registered client is refused a grant the person may have allowed it")
	}
}
