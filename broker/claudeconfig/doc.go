// Package claudeconfig writes mcp-broker's stdio entry for a server into Claude Code's
// configuration, in the three places `claude mcp add` writes to, so that a user does not need
// Claude Code's CLI (or a text editor) to connect Claude Code to a server:
//
//   - user scope: the top-level "mcpServers" of ~/.claude.json;
//   - local scope: "projects"[<project>]."mcpServers" of the same file, where <project> is the
//     key Claude Code uses for a folder (see ProjectKey);
//   - project scope: the top-level "mcpServers" of .mcp.json in a chosen folder.
//
// The entry holds no secret, only the server's name (see Entry):
//
//	{"type":"stdio","command":"/abs/path/mcp-broker","args":["bridge"],"env":{"MCP_BROKER_SERVER":"studio"}}
//
// Claude Code rewrites ~/.claude.json all the time and keeps a lot of its state there (the
// user's projects, approvals, account), so the writer treats the file with care:
//
//   - It edits the text, not a decoded copy: the new member is spliced in where it belongs, in
//     the indentation and line endings the file already uses, and every other byte stays as it
//     was. A decode and re-encode, even order-preserving, would renumber floats, re-escape
//     strings and reformat parts the user never asked to touch.
//   - A file that is not valid JSON, or whose path to "mcpServers" holds something other than
//     objects, is left byte for byte untouched, with an error (FileError) naming the file, the
//     line and the column.
//   - Before it changes an existing file it copies it to <file>.bak (one backup, replaced on
//     each change: the state right before mcp-broker's last write).
//   - It writes atomically (a temp file renamed over the original, keeping its mode and any
//     symbolic link), and for ~/.claude.json it takes the lock Claude Code itself takes
//     (the folder ~/.claude.json.lock, proper-lockfile's protocol) and reads the file again
//     under it, so it neither loses one of Claude Code's writes nor has one of its own lost.
//
// Where Claude Code keeps the file follows Claude Code 2.1: $CLAUDE_CONFIG_DIR/.claude.json when
// that variable is set, else ~/.claude.json; but a non-empty legacy .config.json in the Claude
// folder ($CLAUDE_CONFIG_DIR, else ~/.claude) wins, as it does for Claude Code.
package claudeconfig
