package doctor

import (
	"fmt"
	"strings"
)

// itemSameURL is the finding on other servers configured with the same URL.
const itemSameURL = "same URL"

// sameURL warns, for a configured server, that other servers have its URL: that is how a
// person keeps two accounts on one server, and it works (each has its own client registration
// and tokens), but the second sign-in gets whichever account the browser is signed in to at
// the provider, which may be the first one's.
func (d *diagnosis) sameURL() {
	if d.setup == nil || len(d.setup.SameURLAs) == 0 {
		return
	}
	names := d.setup.SameURLAs
	verb := "is"
	if len(names) > 1 {
		verb = "are"
	}
	list := strings.Join(names[:len(names)-1], ", ")
	if list != "" {
		list += " and "
	}
	list += names[len(names)-1]
	d.add(itemSameURL, Warn, fmt.Sprintf("%s %s configured with this URL too: each keeps its own client registration and tokens.\n"+
		"Sign each in with the account meant for it: a browser still signed in at the provider signs the next one in as the same account.\n"+
		"`mcp-broker status` shows whose each sign-in is.", list, verb))
}
