package claudeconfig

import "fmt"

// FileError says that a configuration file cannot be edited safely: it is not valid JSON, or
// something on the way to "mcpServers" is not an object. The file is left untouched.
type FileError struct {
	Path   string
	Line   int // 1-based, where the problem is
	Column int // 1-based, in characters
	Reason string
}

// Error names the file and the position, and says the file was not touched.
func (e *FileError) Error() string {
	return fmt.Sprintf("%s, line %d, column %d: %s; the file is left as it was: fix it (or move it aside) and try again",
		e.Path, e.Line, e.Column, e.Reason)
}

// newFileError positions a FileError at byte offset off of body (the document after any BOM).
func newFileError(body []byte, off int, reason string) *FileError {
	line, col := lineCol(body, off)
	return &FileError{Line: line, Column: col, Reason: reason}
}

// ExistsError says that the target already has a different entry under the name. Add replaces
// it only when asked to (AddOptions.Replace).
type ExistsError struct {
	Path  string
	Where string // e.g. mcpServers or projects["/repo"].mcpServers
	Name  string
	// Current is the entry there now, indented JSON, to show next to the new one.
	Current string
}

// Error names the file, the object and the name; the caller says how to replace it.
func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already has a different server named %q in %s", e.Path, e.Name, e.Where)
}

// LinkError says that the configuration file is a symbolic link mcp-broker does not write
// through: a .mcp.json that leads out of its project folder (a repository could point it at
// any file of the user's), or a link to a file that does not exist. Nothing is written.
type LinkError struct {
	// Link is the configuration file's path, the link itself.
	Link string
	// Target is where the link leads, symbolic links resolved as far as they go.
	Target string
	// Reason says why the link is not followed, that nothing was changed, and what to do.
	Reason string
}

// Error names the link and its target, and gives the reason.
func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link to %s, %s", e.Link, e.Target, e.Reason)
}
