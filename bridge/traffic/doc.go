// Package traffic is the bridge's live timeline: the JSON-RPC messages it relays and the steps
// of the sign-ins and renewals it triggers, for `mcp-broker traffic` (and the tray) to show.
//
// Each bridge keeps a bounded ring of recent events (Recorder) and writes them, as JSON lines,
// to a file of its own in a private folder (Dir: 0700 under the per-user runtime folder, files
// 0600), but only while someone watches: a watcher (Watch) keeps a file named "watching" fresh
// there, and the bridge looks at its age once a second. While no one watches, the relay's hot
// path pays one atomic load per message and records nothing but the rare sign-in steps, so
// the timeline costs the bridge nothing measurable (`make bench` compares the two).
//
// Nothing written holds a secret. Messages are described by their envelope (direction, kind,
// method, id, size, time to answer, error code and message); their bodies only when the user
// turned them on (config.json's traffic_bodies), and then with every credential removed
// (Body): the values of fields such as access_token, refresh_token, code, client_secret and
// Authorization, bearer and DPoP values, JWTs, token-like URL parameters, the secrets of the
// server's URL, and every secret the bridge holds, wherever it appears.
package traffic
