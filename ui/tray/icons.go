package tray

import (
	"io/fs"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/mcp-broker/mcp-broker/assets"
	"github.com/mcp-broker/mcp-broker/ui/model"
)

// iconFiles names the tray icon of each state in assets.Icons.
var iconFiles = map[model.State]string{
	model.Empty:        "tray-empty.png",
	model.OK:           "tray-ok.png",
	model.SignInNeeded: "tray-signin.png",
	model.Error:        "tray-error.png",
}

// icons are the tray icons and the app icon as Fyne resources, read once. Static resources
// with stable names let Fyne cache them.
var icons = sync.OnceValue(func() map[string]fyne.Resource {
	out := map[string]fyne.Resource{}
	for _, name := range append([]string{"icon.png"}, iconFileList()...) {
		data, err := fs.ReadFile(assets.Icons, name)
		if err != nil {
			// The files are embedded at build time and a test reads every one: this cannot
			// happen in a binary that passed its tests. An empty resource shows no icon
			// rather than stopping the tray.
			data = nil
		}
		out[name] = fyne.NewStaticResource(name, data)
	}
	return out
})

func iconFileList() []string {
	var names []string
	for _, n := range iconFiles {
		names = append(names, n)
	}
	return names
}

// Icon returns the tray icon for the overall state: a PNG resource (the Linux tray decodes
// only PNG). An unknown state gets the error icon.
func Icon(s model.State) fyne.Resource {
	name, ok := iconFiles[s]
	if !ok {
		name = iconFiles[model.Error]
	}
	return icons()[name]
}

// AppIcon is the app's icon (512×512 PNG), for windows, notifications and the tray before
// the first snapshot.
func AppIcon() fyne.Resource { return icons()["icon.png"] }
