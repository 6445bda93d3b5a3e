package broker

import "testing"

// TestSecretGroup checks which keys the store's index names: those whose names hold more than
// the server's, never the ones rebuilt from the name alone, never another server's.
func TestSecretGroup(t *testing.T) {
	for key, want := range map[string]string{
		registrationKey("studio", "https://as.example/tenant"): "studio",
		"some-future-kind/studio/detail":                       "studio",
		tokenKey("studio"):                                     "",
		refreshKey("studio"):                                   "",
		clientSecretKey("studio"):                              "",
		staticTokenKey("studio"):                               "",
		clientKeyKey("studio"):                                 "",
		dpopKey("studio"):                                      "",
		"index/studio":                                         "studio", // secrets.Indexed never indexes its own items
		"no-slash":                                             "",
		"kind/":                                                "",
		idpSessionKey("https://idp.example.com/tenant"):        "",
		idpClientSecretKey("https://idp.example.com"):          "",
	} {
		if got := secretGroup(key); got != want {
			t.Errorf("secretGroup(%q) = %q, want %q", key, got, want)
		}
	}
	for _, k := range wellKnownKeys("studio") {
		if secretGroup(k) != "" {
			t.Errorf("well-known key %q is indexed", k)
		}
	}
}
