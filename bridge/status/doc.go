// Package status publishes what each running bridge is doing, for the tray and for
// `mcp-broker status`, without a daemon: every bridge process writes one small JSON file in a
// per-user runtime folder, rewrites it (atomically, coalesced) within a second of a change, and
// removes it on exit. Readers list the folder and ignore, and clean up, the files of processes
// that are gone, so a bridge that crashed never shows as live.
//
// The same folder holds tray.json while the tray runs. A bridge that needs a sign-in checks it:
// with a live tray it leaves the browser to the tray (which notices the "needs sign-in" state in
// the bridge's file and notifies the user, and whose sign-in asks for the scope the file
// names); without one it opens the browser itself. It believes
// tray.json only in a folder that is ours and closed to others, and only when it names a live
// process of ours, so that no one else can silence the sign-in by planting one.
//
// Nothing here is secret: the files hold names, URLs, states, counts and error messages, which
// are written without tokens.
package status
