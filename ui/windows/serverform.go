package windows

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// maxKeyFile bounds the private key file the form reads: an RSA key of 8192 bits is under 7 KB.
const maxKeyFile = 64 << 10

// ServerEditor is what the add/edit server window needs from the broker.
type ServerEditor interface {
	// Diagnose runs the diagnosis of `mcp-broker doctor` on srv, the form's
	// settings as they stand (srv.URL is the URL checked; for a workload or
	// enterprise server the findings judge the grants it needs). It is called
	// in a goroutine; ctx is cancelled when the window closes.
	Diagnose(ctx context.Context, srv config.Server) (*doctor.Report, error)
	// IdPs names the configured identity providers, which an enterprise
	// server signs in through (`mcp-broker idp add`).
	IdPs() []string
	// Save adds srv, or replaces the configured server of the same name, and
	// stores secret (the client secret; the token or API key for
	// config.AuthBearer; the private key's PEM for a client that signs with
	// it, config.ClientAuthPrivateKeyJWT) in the secret store. An empty secret
	// keeps the one stored, if any. srv has passed srv.Validate.
	Save(ctx context.Context, srv config.Server, secret string) error
}

// ServerForm is the window that adds a server or edits one: URL, name, how
// to sign in, transport. Before saving it checks the URL with the diagnosis
// of `mcp-broker doctor` and shows what it found; a blocking problem needs a
// confirmation to save anyway. The secret typed in is never shown, and when
// editing it is never read back: an empty field keeps the stored one.
type ServerForm struct {
	app      fyne.App
	win      fyne.Window
	ed       ServerEditor
	existing *config.Server

	// ctx is cancelled when the window closes, stopping a check or save in
	// flight; bg counts the goroutines running them.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup

	url, name, clientID, secret, scopes, header *widget.Entry
	assertionFile, assertionCommand             *widget.Entry
	auth, transport, idp, dpop                  *widget.Select

	// A browser sign-in's escape hatches: the provider's rules, extra authorization parameters
	// (KEY=VALUE, space separated), the resource indicator left out, the token sent.
	provider, sendToken *widget.Select
	authParams          *widget.Entry
	noResource          *widget.Check
	authParamsErr       *widget.Label
	signInRows          []fyne.CanvasObject

	urlErr, nameErr, scopesErr, headerErr *widget.Label
	clientIDHint, secretHint              *widget.RichText
	secretLabel                           *widget.Label
	clientIDRow, secretRow, scopesRow     []fyne.CanvasObject // label and field, hidden together
	headerRow, assertionRows, idpRow      []fyne.CanvasObject
	dpopRow                               []fyne.CanvasObject

	// A client-credentials client proves itself with a secret or a private key (private_key_jwt).
	// The key is chosen from a file or pasted, never shown, and held here until saved.
	clientAuth                      *widget.Select
	chooseKey, pasteKey, copyPublic *widget.Button
	keyStatus, keyErr               *widget.Label
	clientAuthRow, keyRow           []fyne.CanvasObject
	keyPEM                          string   // the key chosen in this window; "" keeps the stored one
	key                             *jws.Key // keyPEM, parsed

	check, save, cancelBtn *widget.Button
	busy                   *widget.Activity
	busyText               *widget.Label
	busyRow                *fyne.Container
	findings               *fyne.Container // the check's result, or what Check does
	message                *widget.Label   // a failed check or save, above the buttons

	suggested  string         // the name last suggested from the URL
	checkedURL string         // the URL report and checkErr are about; "" when not checked
	report     *doctor.Report // the last check's findings
	checkErr   error          // why the last check could not run
	run        int            // the current check's number: a superseded check's result is dropped
	confirm    *dialog.ConfirmDialog
}

// ShowServerForm opens the window to add a server (existing nil) or edit
// existing. The name of an existing server cannot be changed here: its
// tokens are stored under it.
func ShowServerForm(a fyne.App, ed ServerEditor, existing *config.Server) *ServerForm {
	f := &ServerForm{app: a, ed: ed, existing: existing}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	title := "Add server"
	if existing != nil {
		title = "Edit " + existing.Name
	}
	f.win = a.NewWindow(title)
	f.build()
	if existing != nil {
		f.fill(*existing)
	}
	f.win.SetOnClosed(f.cancel)
	f.win.Resize(fyne.NewSize(600, 720))
	f.win.Show()
	return f
}

// Window is the form's window.
func (f *ServerForm) Window() fyne.Window { return f.win }

func (f *ServerForm) build() {
	f.url = widget.NewEntry()
	f.url.SetPlaceHolder("https://mcp.example.com/mcp")
	f.url.OnChanged = func(string) { f.urlChanged() }
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("a short name, like studio")
	f.name.OnChanged = func(string) { setMessage(f.nameErr, "") }
	f.clientID = widget.NewEntry()
	f.secret = newSecretEntry()
	f.scopes = widget.NewEntry()
	f.scopes.SetPlaceHolder("optional, space separated")
	f.scopes.OnChanged = func(string) { setMessage(f.scopesErr, "") }
	f.header = widget.NewEntry()
	f.header.SetPlaceHolder("Authorization")
	f.header.OnChanged = func(string) { setMessage(f.headerErr, "") }

	f.auth = widget.NewSelect(choiceLabels(authChoices), func(string) { f.authChanged() })
	f.assertionFile = widget.NewEntry()
	f.assertionFile.SetPlaceHolder("/var/run/secrets/tokens/mcp")
	f.assertionCommand = widget.NewEntry()
	f.assertionCommand.SetPlaceHolder("a command that prints the JWT")
	f.idp = widget.NewSelect(f.ed.IdPs(), nil)
	f.idp.PlaceHolder = "(none configured: mcp-broker idp add)"
	f.transport = widget.NewSelect(choiceLabels(transportChoices), nil)
	f.dpop = widget.NewSelect(choiceLabels(dpopChoices), nil)
	f.provider = widget.NewSelect(choiceLabels(providerChoices), nil)
	f.sendToken = widget.NewSelect(choiceLabels(sendTokenChoices), nil)
	f.authParams = widget.NewEntry()
	f.authParams.SetPlaceHolder("optional: KEY=VALUE, space separated")
	f.authParams.OnChanged = func(string) { setMessage(f.authParamsErr, "") }
	f.noResource = widget.NewCheck("Leave the resource indicator out of every request", nil)
	f.authParamsErr = errorLabel()
	f.clientAuth = widget.NewSelect(choiceLabels(clientAuthChoices), func(string) { f.authChanged() })
	f.chooseKey = widget.NewButtonWithIcon("Choose file…", theme.FolderOpenIcon(), f.showKeyFileDialog)
	f.pasteKey = widget.NewButtonWithIcon("Paste", theme.ContentPasteIcon(), func() {
		f.setKey([]byte(f.app.Clipboard().Content()))
	})
	f.copyPublic = widget.NewButtonWithIcon("Copy public key", theme.ContentCopyIcon(), f.copyPublicKey)
	f.copyPublic.Disable()
	f.keyStatus = widget.NewLabel("No key chosen.")
	f.keyErr = errorLabel()

	f.urlErr, f.nameErr, f.scopesErr, f.headerErr = errorLabel(), errorLabel(), errorLabel(), errorLabel()
	f.clientIDHint, f.secretHint = hint(""), hint("")
	f.secretLabel = formLabel("Client secret")

	nameHint := "Claude Code and the command line know the server by this name: letters, digits, '.', '_' and '-'."
	if f.existing != nil {
		nameHint = "The name cannot change: the server's tokens are stored under it."
	}
	form := container.New(layout.NewFormLayout())
	formRow(form, formLabel("URL"), f.url, f.urlErr)
	formRow(form, formLabel("Name"), f.name, f.nameErr, hint(nameHint))
	formRow(form, formLabel("Sign-in"), f.auth)
	f.clientIDRow = formRow(form, formLabel("Client ID"), f.clientID, f.clientIDHint)
	f.clientAuthRow = formRow(form, formLabel("Credential"), f.clientAuth)
	f.secretRow = formRow(form, f.secretLabel, f.secret, f.secretHint)
	fileRow := formRow(form, formLabel("JWT file"), f.assertionFile,
		hint("The file the workload's platform keeps its JWT in, read for every token. Or:"))
	commandRow := formRow(form, formLabel("JWT command"), f.assertionCommand,
		hint("A command whose output is the JWT, run for every token. The JWT is never stored."))
	f.assertionRows = append(fileRow, commandRow...)
	f.idpRow = formRow(form, formLabel("Identity provider"), f.idp,
		hint("Your company account: you sign in to it once, for every server configured with it."))
	f.keyRow = formRow(form, formLabel("Private key"), container.NewHBox(f.chooseKey, f.pasteKey, f.copyPublic), f.keyStatus, f.keyErr,
		hint("The client's EC P-256 (ES256) or RSA (RS256) key, in PEM. Kept in your keychain, never in the configuration file. "+
			"The authorization server knows the client by its public key: Copy public key gives it as a JSON Web Key."))
	f.headerRow = formRow(form, formLabel("Header"), f.header, f.headerErr,
		hint("Leave empty to send “Authorization: Bearer <token>”; name another header, like X-API-Key, for an API key."))
	f.scopesRow = formRow(form, formLabel("Scopes"), f.scopes, f.scopesErr,
		hint("Leave empty to ask for the scopes the server advertises."))
	f.dpopRow = formRow(form, formLabel("DPoP"), f.dpop,
		hint("Binds each token to a key kept in your keychain (RFC 9449), so that a copied token is of no use elsewhere."))
	providerRow := formRow(form, formLabel("Provider"), f.provider,
		hint("The identity provider whose rules sign-in follows (Entra ID, Google, Auth0, …): Check shows the one detected and what it changes."))
	paramsRow := formRow(form, formLabel("Sign-in parameters"), f.authParams, f.authParamsErr,
		hint("Added to the authorization request, for what the provider wants that no profile knows, like prompt=login."))
	resourceRow := formRow(form, formLabel("Resource"), f.noResource,
		hint("For authorization servers that refuse the resource indicator."))
	tokenRow := formRow(form, formLabel("Token sent"), f.sendToken,
		hint("Some servers (behind Amazon Cognito, say) check the OpenID Connect ID token instead."))
	f.signInRows = append(append(append(providerRow, paramsRow...), resourceRow...), tokenRow...)
	formRow(form, formLabel("Transport"), f.transport,
		hint("Automatic tries Streamable HTTP, then the older SSE transport."))

	f.busy = widget.NewActivity()
	f.busyText = widget.NewLabel("")
	f.busyRow = container.NewHBox(f.busy, f.busyText)
	f.busyRow.Hide()
	f.findings = container.NewVBox()
	f.message = errorLabel()

	f.check = widget.NewButtonWithIcon("Check", theme.SearchIcon(), func() { f.runCheck(nil) })
	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.trySave)
	f.save.Importance = widget.HighImportance
	f.cancelBtn = widget.NewButton("Cancel", f.win.Close)

	headline, intro := "Add an MCP server", "mcp-broker signs in to the server for Claude Code and keeps every secret in your keychain."
	if f.existing != nil {
		headline, intro = "Edit "+f.existing.Name, "Changes apply to new Claude Code sessions."
	}
	body := container.NewVBox(
		heading(headline),
		note(intro),
		gap(),
		form,
		gap(),
		widget.NewSeparator(),
		section("Check"),
		f.busyRow,
		f.findings,
	)
	buttons := container.NewHBox(f.cancelBtn, layout.NewSpacer(), f.check, f.save)
	f.win.SetContent(page(body, container.NewVBox(f.message, buttons)))

	f.clientAuth.SetSelectedIndex(0)
	f.provider.SetSelectedIndex(0)
	f.sendToken.SetSelectedIndex(0)
	f.auth.SetSelectedIndex(0)
	f.transport.SetSelectedIndex(0)
	f.dpop.SetSelectedIndex(0)
	f.showIntro()
}

// fill puts an existing server's values in the fields; never its secret.
func (f *ServerForm) fill(s config.Server) {
	f.url.SetText(s.URL)
	f.name.SetText(s.Name)
	f.name.Disable()
	selectChoice(f.auth, authChoices, s.Auth)
	selectChoice(f.transport, transportChoices, s.Transport)
	selectChoice(f.dpop, dpopChoices, s.DPoP)
	f.clientID.SetText(s.ClientID)
	selectChoice(f.clientAuth, clientAuthChoices, s.ClientAuth)
	if s.ClientAuth == config.ClientAuthPrivateKeyJWT {
		f.keyStatus.SetText(fmt.Sprintf("Its %s key is stored; choose another to replace it.", s.SigningAlg))
	}
	f.scopes.SetText(strings.Join(s.Scopes, " "))
	f.header.SetText(s.Header)
	f.assertionFile.SetText(s.AssertionFile)
	f.assertionCommand.SetText(s.AssertionCommand)
	f.idp.SetSelected(s.IdP)
	selectChoice(f.provider, providerChoices, s.Provider)
	sendToken := s.SendToken
	if sendToken == provider.TokenAccess {
		sendToken = "" // the access token is the default, the choice ""
	}
	selectChoice(f.sendToken, sendTokenChoices, sendToken)
	f.authParams.SetText(formatAuthParams(s.AuthParams))
	f.noResource.SetChecked(s.NoResource)
	f.authChanged()
}

// formatAuthParams writes authorization parameters as the field shows them: KEY=VALUE, space
// separated, sorted by key.
func formatAuthParams(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + params[k]
	}
	return strings.Join(keys, " ")
}

// parseAuthParams reads the field's KEY=VALUE pairs, space separated; nil for none.
func parseAuthParams(text string) (map[string]string, error) {
	var out map[string]string
	for _, kv := range strings.Fields(text) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

// newSecretEntry is a password entry without the button that reveals it:
// a secret is typed or pasted once and never shown again.
func newSecretEntry() *widget.Entry {
	e := &widget.Entry{Password: true, Wrapping: fyne.TextWrap(fyne.TextTruncateClip)}
	// An ActionItem of its own keeps Entry from adding its password revealer.
	e.ActionItem = canvas.NewRectangle(color.Transparent)
	e.ExtendBaseWidget(e)
	return e
}

// formLabel is a form's field name, right-aligned against its field.
func formLabel(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
}

// formRow adds a field to a form layout, with messages and hints below it,
// and returns the label and field so the row can be hidden as one.
func formRow(form *fyne.Container, label *widget.Label, field fyne.CanvasObject, below ...fyne.CanvasObject) []fyne.CanvasObject {
	cell := container.NewVBox(field)
	if len(below) > 0 {
		cell.Add(compact(tight(below...)))
	}
	form.Add(label)
	form.Add(cell)
	return []fyne.CanvasObject{label, cell}
}

func showRow(row []fyne.CanvasObject, show bool) {
	for _, o := range row {
		if show {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// authMode is the sign-in method chosen.
func (f *ServerForm) authMode() config.AuthMode {
	if i := f.auth.SelectedIndex(); i >= 0 {
		return authChoices[i].value
	}
	return config.AuthOAuth
}

// authChanged shows the fields the chosen sign-in method uses, with hints
// that say what each is for in that method.
func (f *ServerForm) authChanged() {
	mode := f.authMode()
	oauth := mode == config.AuthOAuth || mode == config.AuthClientCredentials || mode == config.AuthWorkload || mode == config.AuthEnterprise
	showRow(f.clientIDRow, oauth)
	showRow(f.scopesRow, oauth)
	showRow(f.signInRows, mode == config.AuthOAuth)
	showRow(f.headerRow, mode == config.AuthBearer)
	showRow(f.clientAuthRow, mode == config.AuthClientCredentials)
	showRow(f.keyRow, f.usesKey())
	showRow(f.secretRow, mode != config.AuthNone && mode != config.AuthWorkload && !f.usesKey())
	showRow(f.assertionRows, mode == config.AuthWorkload)
	showRow(f.idpRow, mode == config.AuthEnterprise)
	showRow(f.dpopRow, mode == config.AuthOAuth || mode == config.AuthClientCredentials)

	keep := ""
	if f.existing != nil && f.existing.Auth == mode {
		keep = " Leave empty to keep the one stored."
	}
	switch mode {
	case config.AuthOAuth:
		f.clientID.SetPlaceHolder("optional")
		setQuiet(f.clientIDHint, "Leave empty to register mcp-broker with the server automatically.")
		f.secretLabel.SetText("Client secret")
		f.secret.SetPlaceHolder("optional")
		setQuiet(f.secretHint, "Only for a client id that comes with a secret. Kept in your keychain."+keep)
	case config.AuthClientCredentials:
		f.clientID.SetPlaceHolder("")
		setQuiet(f.clientIDHint, "The client id the authorization server gave you for this machine.")
		f.secretLabel.SetText("Client secret")
		f.secret.SetPlaceHolder("")
		setQuiet(f.secretHint, "Kept in your keychain, never in the configuration file."+keep)
	case config.AuthBearer:
		f.secretLabel.SetText("Token or key")
		f.secret.SetPlaceHolder("")
		setQuiet(f.secretHint, "The API key or token. Kept in your keychain, never in the configuration file."+keep)
	case config.AuthWorkload:
		f.clientID.SetPlaceHolder("")
		setQuiet(f.clientIDHint, "The client id the authorization server knows this workload by.")
	case config.AuthEnterprise:
		f.clientID.SetPlaceHolder("")
		setQuiet(f.clientIDHint, "The client id mcp-broker has at this server's authorization server.")
		f.secretLabel.SetText("Client secret")
		f.secret.SetPlaceHolder("")
		setQuiet(f.secretHint, "That client's secret. Kept in your keychain, never in the configuration file."+keep)
	}
}

// usesKey reports whether the client chosen proves itself with a private key (private_key_jwt).
func (f *ServerForm) usesKey() bool {
	i := f.clientAuth.SelectedIndex()
	return f.authMode() == config.AuthClientCredentials && i >= 0 && clientAuthChoices[i].value == config.ClientAuthPrivateKeyJWT
}

// showKeyFileDialog lets the person choose the private key's file.
func (f *ServerForm) showKeyFileDialog() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			setMessage(f.keyErr, explain("The file could not be opened.", err))
			return
		}
		if r == nil {
			return // cancelled
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
		switch {
		case err != nil:
			setMessage(f.keyErr, explain("The file could not be read.", err))
		case len(data) > maxKeyFile:
			setMessage(f.keyErr, "That file is too big to be a private key.")
		default:
			f.setKey(data)
		}
	}, f.win)
	d.Show()
}

// setKey takes data as the client's private key if it is one (see jws.ParsePEM), and says what
// is wrong if not, without ever showing it.
func (f *ServerForm) setKey(data []byte) {
	key, err := jws.ParsePEM(data)
	if err != nil {
		setMessage(f.keyErr, explain("That is not a private key mcp-broker can sign with.", err))
		return
	}
	thumb, err := key.Thumbprint()
	if err != nil {
		setMessage(f.keyErr, explain("That key cannot be used.", err))
		return
	}
	f.keyPEM, f.key = string(data), key
	setMessage(f.keyErr, "")
	f.keyStatus.SetText(fmt.Sprintf("%s key %s… chosen; it goes to your keychain when you save.", key.Algorithm(), thumb[:8]))
	f.copyPublic.Enable()
}

// copyPublicKey puts the chosen key's public half on the clipboard, as a JSON Web Key, for the
// person to register with the authorization server.
func (f *ServerForm) copyPublicKey() {
	if f.key == nil {
		return
	}
	ck, err := broker.PublicClientKey(f.key)
	if err != nil {
		setMessage(f.keyErr, explain("The public key could not be written out.", err))
		return
	}
	f.app.Clipboard().SetContent(string(ck.JWK))
	f.keyStatus.SetText(fmt.Sprintf("%s key %s… chosen; its public key is on the clipboard.", ck.Algorithm, ck.Thumbprint[:8]))
}

// urlChanged keeps the suggested name in step with the URL, unless the user
// typed a name of their own, and drops a check of another URL.
func (f *ServerForm) urlChanged() {
	setMessage(f.urlErr, "")
	if f.existing == nil && (f.name.Text == "" || f.name.Text == f.suggested) {
		f.suggested = SuggestName(f.url.Text)
		f.name.SetText(f.suggested)
	}
	if f.checkedURL != "" && strings.TrimSpace(f.url.Text) != f.checkedURL {
		f.run++ // a check still running is about the old URL
		f.report, f.checkErr, f.checkedURL = nil, nil, ""
		f.setBusy("")
		f.showIntro()
	}
}

// showIntro says what Check does, in place of findings.
func (f *ServerForm) showIntro() {
	f.findings.RemoveAll()
	f.findings.Add(note("Check looks at how the server expects to be signed in to and spoken to, as `mcp-broker doctor` does, and shows what it finds before anything is saved."))
	f.findings.Refresh()
}

// setBusy shows the activity indicator with text, or hides it for "", and
// disables Check and Save meanwhile.
func (f *ServerForm) setBusy(text string) {
	if text == "" {
		f.busy.Stop()
		f.busyRow.Hide()
		f.check.Enable()
		f.save.Enable()
		return
	}
	f.busyText.SetText(text)
	f.busyRow.Show()
	f.busy.Start()
	f.check.Disable()
	f.save.Disable()
}

// SuggestName proposes a server name for an MCP URL: the distinctive part of
// its host ("notion" for https://mcp.notion.com/mcp, "localhost-8123" for
// http://127.0.0.1:8123/mcp), or broker.URLServerName when that part is not
// a valid name. It returns "" for a URL without a host.
func SuggestName(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	var name string
	switch {
	case config.IsLoopbackHost(host):
		name = "localhost"
		if p := u.Port(); p != "" {
			name += "-" + p
		}
	case net.ParseIP(host) != nil:
		name = strings.ReplaceAll(host, ":", "-")
	default:
		labels := strings.Split(host, ".")
		// Leading labels that name a role, not the service, say little.
		for len(labels) > 2 && (labels[0] == "www" || labels[0] == "mcp" || labels[0] == "api") {
			labels = labels[1:]
		}
		if len(labels) > 1 {
			labels = labels[:len(labels)-1] // the top-level domain
		}
		name = labels[0]
	}
	if len(name) > 64 {
		name = name[:64]
	}
	if config.ValidateName(name) != nil {
		return broker.URLServerName(rawURL)
	}
	return name
}

// collect reads the fields into a server and secret, validating them; the
// problems are shown next to their fields and ok is false.
func (f *ServerForm) collect() (srv config.Server, secret string, ok bool) {
	if f.existing != nil {
		srv = *f.existing // keeps the settings this form does not show
	}
	srv.Name = strings.TrimSpace(f.name.Text)
	srv.URL = strings.TrimSpace(f.url.Text)
	srv.Auth = f.authMode()
	srv.Transport = config.TransportAuto
	if i := f.transport.SelectedIndex(); i >= 0 {
		srv.Transport = transportChoices[i].value
	}
	srv.ClientID, srv.Scopes, srv.Header = "", nil, ""
	srv.AssertionFile, srv.AssertionCommand, srv.IdP = "", "", ""
	srv.DPoP = "" // auto, stored as empty
	if i := f.dpop.SelectedIndex(); i >= 0 && (srv.Auth == config.AuthOAuth || srv.Auth == config.AuthClientCredentials) &&
		dpopChoices[i].value != config.DPoPAuto {
		srv.DPoP = dpopChoices[i].value
	}

	srv.Provider, srv.AuthParams, srv.NoResource, srv.SendToken = "", nil, false, ""
	paramsOK := true
	if srv.Auth == config.AuthOAuth {
		srv.Provider, srv.SendToken, srv.NoResource = f.providerChoice(), f.sendTokenChoice(), f.noResource.Checked
		params, err := parseAuthParams(f.authParams.Text)
		if err != nil {
			setMessage(f.authParamsErr, sentence(err.Error()))
			paramsOK = false
		} else if len(params) > 0 {
			srv.AuthParams = params
			p := config.Server{Name: "probe", URL: "https://example.com", Auth: config.AuthOAuth, AuthParams: params}
			if err := p.Validate(); err != nil {
				setMessage(f.authParamsErr, fieldError(err))
				paramsOK = false
			}
		}
	}
	switch srv.Auth {
	case config.AuthOAuth, config.AuthClientCredentials, config.AuthWorkload, config.AuthEnterprise:
		srv.ClientID = strings.TrimSpace(f.clientID.Text)
		if scopes := strings.Fields(f.scopes.Text); len(scopes) > 0 {
			srv.Scopes = scopes
		}
	case config.AuthBearer:
		srv.Header = strings.TrimSpace(f.header.Text)
	}
	switch srv.Auth {
	case config.AuthWorkload:
		srv.AssertionFile = strings.TrimSpace(f.assertionFile.Text)
		srv.AssertionCommand = strings.TrimSpace(f.assertionCommand.Text)
	case config.AuthEnterprise:
		srv.IdP = f.idp.Selected
	}
	ok = true
	switch {
	case f.usesKey():
		srv.ClientAuth = config.ClientAuthPrivateKeyJWT
		switch {
		case f.keyPEM != "":
			secret, srv.SigningAlg = f.keyPEM, "" // the key decides its algorithm
		case f.existing == nil || f.existing.ClientAuth != config.ClientAuthPrivateKeyJWT:
			setMessage(f.keyErr, "Choose the client's private key.")
			ok = false
		}
	case srv.Auth != config.AuthNone && srv.Auth != config.AuthWorkload:
		srv.ClientAuth, srv.SigningAlg = "", ""
		secret = strings.TrimSpace(f.secret.Text)
	default:
		srv.ClientAuth, srv.SigningAlg = "", ""
	}

	ok = f.validateURL(srv.URL) && ok && paramsOK
	if err := config.ValidateName(srv.Name); err != nil {
		setMessage(f.nameErr, sentence(err.Error()))
		ok = false
	}
	// Validate field by field, so each problem shows where it is.
	probe := config.Server{Name: "probe", URL: "https://example.com", Auth: config.AuthNone}
	p := probe
	p.Scopes = srv.Scopes
	if err := p.Validate(); err != nil {
		setMessage(f.scopesErr, fieldError(err))
		ok = false
	}
	p = probe
	p.Header = srv.Header
	if err := p.Validate(); err != nil {
		setMessage(f.headerErr, fieldError(err))
		ok = false
	}
	if !ok {
		return srv, "", false
	}
	if err := srv.Validate(); err != nil { // anything the fields did not catch
		setMessage(f.message, explain("The server cannot be saved.", err))
		return srv, "", false
	}
	return srv, secret, true
}

// validateURL shows what is wrong with rawURL under the URL field.
func (f *ServerForm) validateURL(rawURL string) bool {
	if rawURL == "" {
		setMessage(f.urlErr, "Enter the server's MCP endpoint, like https://mcp.example.com/mcp.")
		return false
	}
	p := config.Server{Name: "probe", URL: rawURL, Auth: config.AuthNone}
	if err := p.Validate(); err != nil {
		setMessage(f.urlErr, fieldError(err))
		return false
	}
	setMessage(f.urlErr, "")
	return true
}

// fieldError is a validation error without the server name config adds,
// which next to the field is noise.
func fieldError(err error) string {
	var invalid *config.InvalidServerError
	if errors.As(err, &invalid) {
		err = invalid.Err
	}
	return sentence(err.Error())
}

// runCheck diagnoses the URL in a goroutine and shows the findings; then,
// if given, runs next (Save uses it to continue once the findings are in).
func (f *ServerForm) runCheck(next func()) {
	setMessage(f.message, "")
	rawURL := strings.TrimSpace(f.url.Text)
	if !f.validateURL(rawURL) {
		return
	}
	f.run++
	run := f.run
	f.setBusy("Checking " + rawURL + "…")
	f.findings.RemoveAll()
	f.findings.Refresh()
	setup := f.setup(rawURL)
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		rep, err := f.ed.Diagnose(f.ctx, setup)
		if err == nil && rep == nil {
			err = errors.New("the diagnosis returned no report")
		}
		fyne.Do(func() {
			if f.ctx.Err() != nil || run != f.run {
				return // the window closed, or the URL changed meanwhile
			}
			f.setBusy("")
			f.checkedURL, f.report, f.checkErr = rawURL, rep, err
			f.findings.RemoveAll()
			if err != nil {
				l := errorLabel()
				setMessage(l, explain("The check could not run.", err))
				f.findings.Add(l)
			} else {
				f.findings.Add(reportView(rep))
			}
			f.findings.Refresh()
			if next != nil {
				next()
			}
		})
	}()
}

// setup is what the check judges: the URL, the sign-in method and, for the JWT bearer modes,
// the fields the check compares with what the server advertises, as they stand (unvalidated:
// the check reports what does not fit).
func (f *ServerForm) setup(rawURL string) config.Server {
	srv := config.Server{Name: strings.TrimSpace(f.name.Text), URL: rawURL, Auth: f.authMode()}
	switch srv.Auth {
	case config.AuthWorkload:
		srv.AssertionFile, srv.AssertionCommand = strings.TrimSpace(f.assertionFile.Text), strings.TrimSpace(f.assertionCommand.Text)
		srv.ClientID = strings.TrimSpace(f.clientID.Text)
	case config.AuthEnterprise:
		srv.IdP, srv.ClientID = f.idp.Selected, strings.TrimSpace(f.clientID.Text)
	case config.AuthOAuth:
		// The findings name the provider's profile and the request these settings make.
		srv.Provider, srv.SendToken, srv.NoResource = f.providerChoice(), f.sendTokenChoice(), f.noResource.Checked
		srv.AuthParams, _ = parseAuthParams(f.authParams.Text)
		srv.Scopes = strings.Fields(f.scopes.Text)
		srv.ClientID = strings.TrimSpace(f.clientID.Text)
	}
	return srv
}

// providerChoice is the provider setting chosen.
func (f *ServerForm) providerChoice() string {
	if i := f.provider.SelectedIndex(); i >= 0 {
		return providerChoices[i].value
	}
	return ""
}

// sendTokenChoice is the token chosen to send.
func (f *ServerForm) sendTokenChoice() string {
	if i := f.sendToken.SelectedIndex(); i >= 0 {
		return sendTokenChoices[i].value
	}
	return ""
}

// trySave validates the fields, checks the URL if it was not checked yet,
// asks before saving a server with blocking findings, and saves.
func (f *ServerForm) trySave() {
	setMessage(f.message, "")
	srv, secret, ok := f.collect()
	if !ok {
		return
	}
	if f.checkedURL != srv.URL {
		f.runCheck(f.trySave)
		return
	}
	if f.checkErr == nil && !f.report.Blocking() {
		f.doSave(srv, secret)
		return
	}
	msg := "The check found problems that stop mcp-broker from signing in to or connecting to this server.\nSave it anyway?"
	if f.checkErr != nil {
		msg = "The server could not be checked.\nSave it anyway?"
	}
	f.confirm = dialog.NewConfirm("Save anyway?", msg, func(yes bool) {
		f.confirm = nil
		if yes {
			f.doSave(srv, secret)
		}
	}, f.win)
	f.confirm.SetConfirmText("Save anyway")
	f.confirm.SetDismissText("Don't save")
	f.confirm.Show()
}

// doSave saves in a goroutine and closes the window when it worked.
func (f *ServerForm) doSave(srv config.Server, secret string) {
	f.setBusy("Saving " + srv.Name + "…")
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		err := f.ed.Save(f.ctx, srv, secret)
		fyne.Do(func() {
			if f.ctx.Err() != nil {
				return
			}
			f.setBusy("")
			if err != nil {
				setMessage(f.message, explain("The server was not saved.", err))
				return
			}
			f.win.Close()
		})
	}()
}
