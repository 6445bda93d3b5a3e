package authserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// deviceClient pre-registers a public client for the device grant (and refresh tokens).
func deviceClient(as *authserver.Server) string {
	as.RegisterClient(authserver.Client{ID: "tv", GrantTypes: []string{authserver.GrantDeviceCode, authserver.GrantRefreshToken}})
	return "tv"
}

// deviceAuthorize asks the device authorization endpoint for codes.
func deviceAuthorize(t *testing.T, as *authserver.Server, clientID string, form url.Values) (int, map[string]any) {
	t.Helper()
	form = cloneForm(form)
	form.Set("client_id", clientID)
	resp, err := http.PostForm(as.Issuer()+"/device_authorization", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

// devicePoll is one poll of the token endpoint with the device code.
func devicePoll(t *testing.T, as *authserver.Server, clientID, deviceCode string) (int, map[string]any) {
	t.Helper()
	return token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, url.Values{
		"grant_type": {authserver.GrantDeviceCode}, "device_code": {deviceCode}, "resource": {testResource},
	})
}

func TestDeviceMetadata(t *testing.T) {
	off := start(t, authserver.Options{})
	_, m := getJSON(t, off.Issuer()+"/.well-known/oauth-authorization-server")
	if _, ok := m["device_authorization_endpoint"]; ok {
		t.Error("device_authorization_endpoint advertised without Options.Device")
	}
	on := start(t, authserver.Options{Device: authserver.DeviceOptions{Enabled: true}, Issuer: "/tenant"})
	_, m = getJSON(t, strings.TrimSuffix(on.Issuer(), "/tenant")+"/.well-known/oauth-authorization-server/tenant")
	if m["device_authorization_endpoint"] != on.Issuer()+"/device_authorization" {
		t.Errorf("device_authorization_endpoint = %v", m["device_authorization_endpoint"])
	}
	if !slices.Contains(toStrings(m["grant_types_supported"]), authserver.GrantDeviceCode) {
		t.Errorf("grant_types_supported = %v, want the device_code grant", m["grant_types_supported"])
	}
}

// TestDeviceFlow walks RFC 8628 through: codes, a pending poll, the page a person uses to
// approve, the token, and a code that cannot be used twice.
func TestDeviceFlow(t *testing.T) {
	clock := newFakeClock()
	as := start(t, authserver.Options{Now: clock.Now, Device: authserver.DeviceOptions{Enabled: true, Interval: 2 * time.Second, CodeTTL: time.Minute}})
	id := deviceClient(as)

	status, da := deviceAuthorize(t, as, id, url.Values{"scope": {"mcp:read offline_access"}, "resource": {testResource}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, da)
	}
	userCode, _ := da["user_code"].(string)
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(userCode) {
		t.Errorf("user_code = %q, want XXXX-XXXX of RFC 8628 §6.1's consonants", userCode)
	}
	if da["verification_uri"] != as.Issuer()+"/device" || da["verification_uri_complete"] != as.Issuer()+"/device?user_code="+url.QueryEscape(userCode) {
		t.Errorf("verification URIs = %v, %v", da["verification_uri"], da["verification_uri_complete"])
	}
	if da["interval"] != 2.0 || da["expires_in"] != 60.0 {
		t.Errorf("interval, expires_in = %v, %v", da["interval"], da["expires_in"])
	}
	deviceCode := da["device_code"].(string)

	clock.Advance(2 * time.Second)
	status, m := devicePoll(t, as, id, deviceCode)
	wantOAuthError(t, status, m, http.StatusBadRequest, "authorization_pending")

	// The complete URI fills in the code; the person may type it in lower case, without the dash.
	page := get(t, da["verification_uri_complete"].(string))
	if !strings.Contains(page, `value="`+userCode+`"`) {
		t.Errorf("the page of verification_uri_complete does not fill in the code:\n%s", page)
	}
	typed := strings.ToLower(strings.ReplaceAll(userCode, "-", ""))
	if err := authserver.DecideDevice(t.Context(), nil, as.Issuer()+"/device", typed, true); err != nil {
		t.Fatal(err)
	}

	clock.Advance(2 * time.Second)
	status, m = devicePoll(t, as, id, deviceCode)
	if status != http.StatusOK || m["access_token"] == nil || m["refresh_token"] == nil || m["scope"] != "mcp:read offline_access" {
		t.Fatalf("poll after approval: %d %v", status, m)
	}
	info, ok := as.Verify(m["access_token"].(string))
	if !ok || info.Resource != testResource || info.Subject != authserver.DemoSubject {
		t.Errorf("token info = %+v, %v", info, ok)
	}
	clock.Advance(2 * time.Second)
	status, m = devicePoll(t, as, id, deviceCode)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if s := as.Stats(); s.DeviceAuthorizations != 1 || s.DeviceCodeGrants != 1 || s.SlowDowns != 0 {
		t.Errorf("stats = %+v", s)
	}
	for _, r := range as.Requests() {
		if r.Form.Has("device_code") && r.Form.Get("device_code") != authserver.Redacted {
			t.Error("a device code was recorded unredacted")
		}
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestDeviceDenyExpirySlowDown(t *testing.T) {
	clock := newFakeClock()
	as := start(t, authserver.Options{Now: clock.Now, Device: authserver.DeviceOptions{Enabled: true, Interval: 5 * time.Second, CodeTTL: time.Minute, SlowDown: 1}})
	id := deviceClient(as)
	codes := func() (device, user string) {
		_, da := deviceAuthorize(t, as, id, nil)
		return da["device_code"].(string), da["user_code"].(string)
	}

	t.Run("denied", func(t *testing.T) {
		dc, uc := codes()
		if err := authserver.DecideDevice(t.Context(), nil, as.Issuer()+"/device", uc, false); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Second)
		devicePoll(t, as, id, dc) // the forced slow_down
		clock.Advance(10 * time.Second)
		status, m := devicePoll(t, as, id, dc)
		wantOAuthError(t, status, m, http.StatusBadRequest, "access_denied")
	})
	t.Run("slow_down", func(t *testing.T) {
		dc, _ := codes()
		clock.Advance(5 * time.Second)
		status, m := devicePoll(t, as, id, dc)
		wantOAuthError(t, status, m, http.StatusBadRequest, "slow_down")
		// The interval is now 10 s: a poll 5 s later is too early, and pushes it to 15 s.
		clock.Advance(5 * time.Second)
		status, m = devicePoll(t, as, id, dc)
		wantOAuthError(t, status, m, http.StatusBadRequest, "slow_down")
		clock.Advance(15 * time.Second)
		status, m = devicePoll(t, as, id, dc)
		wantOAuthError(t, status, m, http.StatusBadRequest, "authorization_pending")
	})
	t.Run("expired", func(t *testing.T) {
		dc, uc := codes()
		clock.Advance(time.Minute)
		status, m := devicePoll(t, as, id, dc)
		wantOAuthError(t, status, m, http.StatusBadRequest, "expired_token")
		if err := authserver.DecideDevice(t.Context(), nil, as.Issuer()+"/device", uc, true); err == nil {
			t.Error("an expired user code could still be approved")
		}
	})
}

func TestDeviceRefusals(t *testing.T) {
	as := start(t, authserver.Options{Device: authserver.DeviceOptions{Enabled: true}})
	browserOnly := registerPublic(t, as)
	status, m := deviceAuthorize(t, as, browserOnly, nil)
	wantOAuthError(t, status, m, http.StatusBadRequest, "unauthorized_client")
	status, m = deviceAuthorize(t, as, deviceClient(as), url.Values{"scope": {"no-such-scope"}})
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_scope")

	// Dynamic registration of a device client: no redirect URI needed.
	status, reg := register(t, as, map[string]any{
		"client_name": "cli", "grant_types": []string{authserver.GrantDeviceCode, "refresh_token"},
		"token_endpoint_auth_method": "none", "response_types": []string{}, "application_type": "native",
	})
	if status != http.StatusCreated {
		t.Fatalf("registering a device client: %d %v", status, reg)
	}
	if status, m := deviceAuthorize(t, as, reg["client_id"].(string), nil); status != http.StatusOK {
		t.Errorf("the registered device client was refused: %d %v", status, m)
	}
	if err := authserver.DecideDevice(t.Context(), nil, as.Issuer()+"/device", "BCDF-GHJK", true); err == nil {
		t.Error("an unknown user code was accepted")
	}

	off := start(t, authserver.Options{})
	if status, _ := register(t, off, map[string]any{"grant_types": []string{authserver.GrantDeviceCode}, "token_endpoint_auth_method": "none"}); status == http.StatusCreated {
		t.Error("a server without the device grant registered a device client")
	}
}
