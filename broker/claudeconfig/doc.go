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
//     each change: the state right before mcp-broker's last write). The backup of
//     ~/.claude.json, which holds Claude Code's own secrets, is 0600 whatever the file's mode;
//     that of .mcp.json has the file's mode.
//   - It writes atomically: a new temp file in the same folder (created exclusively, never
//     through a link), the original's mode, fsync, rename. A failed write leaves the old file
//     as it was.
//   - It takes a lock for every file it writes, so that mcp-broker processes (the CLI, the
//     tray) adding servers at the same time never lose one another's entry: mcp-broker's own
//     cross-process lock (package lock), in mcp-broker's lock folder under a hash of the file's
//     path rather than beside the file, where it would litter projects. For ~/.claude.json it
//     also takes the lock Claude Code itself takes (the folder ~/.claude.json.lock,
//     proper-lockfile's protocol), and reads the file again under it, so it neither loses one
//     of Claude Code's writes nor has one of its own lost.
//
// Symbolic links. A repository can ship .mcp.json, or .mcp.json.bak, as a symbolic link (git
// checks links out as links) to any file of the user's, ~/.bashrc say, where a JSON key such
// as "$(cmd)" would then be shell code. So the writer follows no link it has not checked:
//
//   - <file>.bak is never followed: a link there is replaced by the backup, and whatever it
//     pointed to is left alone (not overwritten, not created). A folder or a named pipe there
//     is an error, before anything is written or opened.
//   - A .mcp.json that is a link is written through, atomically and keeping the link, when it
//     leads (all links resolved) to a file inside the folder that holds it: a repository that
//     keeps its Claude Code settings in a subfolder and links them into place expects
//     `claude add` to change the file Claude Code reads, and a file inside the project is one
//     the repository could have filled as it liked anyway, so writing it gives a hostile one
//     nothing. The folder counts, not the git repository around it: a home folder under git
//     would make every dotfile "inside". A link that leads out of the folder, or to nothing,
//     is refused with a *LinkError naming the link and its target, and nothing is written.
//   - ~/.claude.json as a link is the user's own doing (dotfile managers such as GNU Stow
//     link it), so it is written through wherever it leads: the file it resolves to is
//     replaced atomically and the link kept. A link to nothing is refused.
//
// The checks guard against what a repository ships; a process of the user's that swaps links
// while mcp-broker writes could still race them, and has easier ways to do harm.
//
// Where Claude Code keeps the file follows Claude Code 2.1: $CLAUDE_CONFIG_DIR/.claude.json when
// that variable is set, else ~/.claude.json; but a non-empty legacy .config.json in the Claude
// folder ($CLAUDE_CONFIG_DIR, else ~/.claude) wins, as it does for Claude Code.
package claudeconfig
