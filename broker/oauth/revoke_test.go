package oauth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestRevokeAuthenticatesAsRegistered(t *testing.T) {
	tests := []struct {
		method         string
		secret         string
		wantBasic      bool
		wantFormSecret bool
	}{
		{AuthNone, "", false, false},
		{AuthClientSecretBasic, "s3cret", true, false},
		{AuthClientSecretPost, "s3cret", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e, endpoint := newTokenEndpoint(t, http.StatusOK, "")
			c := &Client{ID: "cid", Secret: tt.secret, AuthMethod: tt.method}
			if err := Revoke(t.Context(), nil, endpoint, c, "RT-secret", HintRefreshToken); err != nil {
				t.Fatal(err)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.form.Get("token") != "RT-secret" || e.form.Get("token_type_hint") != "refresh_token" {
				t.Errorf("form = %v", e.form)
			}
			if e.hadBasic != tt.wantBasic || e.form.Has("client_secret") != tt.wantFormSecret {
				t.Errorf("basic %v, client_secret in form %v", e.hadBasic, e.form.Has("client_secret"))
			}
			if !tt.wantBasic && e.form.Get("client_id") != "cid" {
				t.Errorf("client_id = %q", e.form.Get("client_id"))
			}
		})
	}
}

func TestRevokeErrors(t *testing.T) {
	_, endpoint := newTokenEndpoint(t, http.StatusBadRequest, `{"error":"unsupported_token_type","error_description":"no RT-secret here"}`)
	err := Revoke(t.Context(), nil, endpoint, &Client{ID: "cid", AuthMethod: AuthNone}, "RT-secret", HintRefreshToken)
	var re *RevocationError
	if !errors.As(err, &re) || re.Code != "unsupported_token_type" || re.Status != http.StatusBadRequest {
		t.Fatalf("err = %v, want a RevocationError", err)
	}
	_, endpoint = newTokenEndpoint(t, http.StatusServiceUnavailable, "down")
	err = Revoke(t.Context(), nil, endpoint, &Client{ID: "cid", AuthMethod: AuthNone}, "RT-secret", HintAccessToken)
	if !errors.As(err, &re) || re.Status != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want a RevocationError with the status", err)
	}
	if strings.Contains(err.Error(), "RT-secret") {
		t.Error("the error holds the token")
	}
	if err := Revoke(t.Context(), nil, "javascript:alert(1)", &Client{ID: "cid", AuthMethod: AuthNone}, "RT-secret", HintAccessToken); err == nil {
		t.Error("a javascript: endpoint was accepted")
	}
}
