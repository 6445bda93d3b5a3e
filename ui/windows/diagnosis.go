package windows

import (
	"context"
	"errors"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker/doctor"
)

// Diagnosis is the window that diagnoses a configured server, as
// `mcp-broker doctor` does, and shows the report as a list a person can read
// and copy (to send to the server's operator, say).
type Diagnosis struct {
	win    fyne.Window
	server string
	url    string
	runFn  func(ctx context.Context) (*doctor.Report, error)

	ctx    context.Context // cancelled when the window closes
	cancel context.CancelFunc
	bg     sync.WaitGroup

	activity *widget.Activity
	busyRow  *fyne.Container
	results  *fyne.Container
	again    *widget.Button
	copy     *widget.Button
	copied   *widget.Label

	report *doctor.Report
	run    int // the current run: an older run's result is dropped
}

// ShowDiagnosis opens the window for server (at url, as configured) and runs
// run in a goroutine; the context it gets is cancelled when the window closes.
func ShowDiagnosis(a fyne.App, server, url string, run func(ctx context.Context) (*doctor.Report, error)) *Diagnosis {
	d := &Diagnosis{win: a.NewWindow("Diagnose " + server), server: server, url: url, runFn: run}
	d.ctx, d.cancel = context.WithCancel(context.Background())

	d.activity = widget.NewActivity()
	d.busyRow = container.NewHBox(d.activity, widget.NewLabel("Checking how the server expects to be signed in to and spoken to…"))
	d.results = container.NewVBox()
	d.copied = widget.NewLabel("")
	d.copied.Importance = widget.LowImportance
	d.copied.Hide()
	d.again = widget.NewButtonWithIcon("Run again", theme.ViewRefreshIcon(), d.start)
	d.copy = widget.NewButtonWithIcon("Copy report", theme.ContentCopyIcon(), func() {
		var b strings.Builder
		if d.report == nil || d.report.WriteText(&b) != nil {
			return
		}
		a.Clipboard().SetContent(b.String())
		setMessage(d.copied, "Report copied.")
	})

	urlLabel := quiet(url, theme.SizeNameText, fyne.TextAlignLeading)
	urlLabel.Wrapping = fyne.TextWrapBreak
	body := container.NewVBox(
		heading("Diagnosis of "+server),
		urlLabel,
		gap(),
		d.busyRow,
		d.results,
	)
	closeBtn := widget.NewButton("Close", d.win.Close)
	buttons := container.NewHBox(d.copy, d.again, d.copied, layout.NewSpacer(), closeBtn)
	d.win.SetContent(page(body, buttons))
	d.win.SetOnClosed(d.cancel)
	d.win.Resize(fyne.NewSize(620, 600))
	d.win.Show()
	d.start()
	return d
}

// Window is the window.
func (d *Diagnosis) Window() fyne.Window { return d.win }

// start runs the diagnosis in a goroutine and shows the report when it is in.
func (d *Diagnosis) start() {
	d.run++
	run := d.run
	d.report = nil
	d.results.RemoveAll()
	d.results.Refresh()
	d.copied.Hide()
	d.copy.Disable()
	d.again.Disable()
	d.busyRow.Show()
	d.activity.Start()
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		rep, err := d.runFn(d.ctx)
		if err == nil && rep == nil {
			err = errors.New("the diagnosis returned no report")
		}
		fyne.Do(func() {
			if d.ctx.Err() != nil || run != d.run {
				return
			}
			d.activity.Stop()
			d.busyRow.Hide()
			d.again.Enable()
			if err != nil {
				l := errorLabel()
				setMessage(l, explain("The diagnosis could not run.", err))
				d.results.Add(l)
			} else {
				d.report = rep
				d.copy.Enable()
				d.results.Add(reportView(rep))
			}
			d.results.Refresh()
		})
	}()
}
