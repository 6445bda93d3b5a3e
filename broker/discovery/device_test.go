package discovery

import (
	"errors"
	"testing"
)

func TestDeviceGrantMetadata(t *testing.T) {
	const dev = "https://as.example/device"
	tests := []struct {
		name    string
		m       *AuthServerMetadata
		offered bool
		err     error // what ValidateForDevice's error must match; nil for none
		field   string
	}{
		{"nil", nil, false, ErrNoDeviceGrant, ""},
		{"no endpoint", &AuthServerMetadata{TokenEndpoint: "https://as.example/token", GrantTypesSupported: []string{GrantDeviceCode}}, false, ErrNoDeviceGrant, ""},
		{"endpoint, grants not listed", &AuthServerMetadata{TokenEndpoint: "https://as.example/token", DeviceAuthorizationEndpoint: dev}, true, nil, ""},
		{"endpoint and grant", &AuthServerMetadata{TokenEndpoint: "https://as.example/token", DeviceAuthorizationEndpoint: dev, GrantTypesSupported: []string{"authorization_code", GrantDeviceCode}}, true, nil, ""},
		{"endpoint, grant not listed", &AuthServerMetadata{TokenEndpoint: "https://as.example/token", DeviceAuthorizationEndpoint: dev, GrantTypesSupported: []string{"authorization_code"}}, false, ErrNoDeviceGrant, ""},
		{"no PKCE needed, no token endpoint", &AuthServerMetadata{DeviceAuthorizationEndpoint: dev}, true, nil, "token_endpoint"},
		{"plain http device endpoint", &AuthServerMetadata{TokenEndpoint: "https://as.example/token", DeviceAuthorizationEndpoint: "http://as.example/device"}, true, nil, "device_authorization_endpoint"},
		{"loopback", &AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:9/token", DeviceAuthorizationEndpoint: "http://127.0.0.1:9/device"}, true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.OffersDeviceGrant(); got != tt.offered {
				t.Errorf("OffersDeviceGrant = %v", got)
			}
			err := tt.m.ValidateForDevice()
			var missing *MissingFieldError
			var insecure *InsecureEndpointError
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Errorf("ValidateForDevice = %v, want %v", err, tt.err)
				}
			case tt.field == "":
				if err != nil {
					t.Errorf("ValidateForDevice = %v", err)
				}
			case errors.As(err, &missing):
				if missing.Field != tt.field {
					t.Errorf("ValidateForDevice = %v, want %s named", err, tt.field)
				}
			case errors.As(err, &insecure):
				if insecure.Field != tt.field {
					t.Errorf("ValidateForDevice = %v, want %s named", err, tt.field)
				}
			default:
				t.Errorf("ValidateForDevice = %v, want a problem with %s", err, tt.field)
			}
		})
	}
}
