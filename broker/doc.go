// Package broker signs in to remote MCP servers and hands out their credentials. It is the one
// place that ties the pieces together: configuration (package config), discovery, client
// registration and the token endpoint (packages discovery and oauth), the browser sign-in
// (packages loopback and opener) or, away from the desktop, the device sign-in with a code
// (device.go, RFC 8628), and the secret store (package secrets).
//
// Every secret lives in the secret store, one item per secret (secret store keys are listed in
// keys.go). What describes a credential without being one (expiry, scopes, which client is
// registered with which authorization server, whose account it is) is mirrored into a small
// state file next to the configuration, so that `status` and the tray never need to unlock the
// keychain.
//
// Any number of processes (the CLI, the tray, every bridge) use a Broker at once. They
// coordinate through a per-server lock file: sign-in and refresh run under it, so a rotating
// refresh token is spent exactly once and only one browser tab opens.
//
// Every public method fails with an *OpError: the server, the operation and the cause, whose
// text names the server once. The cause says what failed, never what to run next: the next
// step is a hint (package hint) that the command line and the tray each put in their own words.
package broker
