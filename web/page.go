package web

import "html/template"

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cloud2mqtt</title>
<style>
body{font-family:sans-serif;margin:2em;line-height:1.4}
table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
.ok{background:#e6f4e6;padding:.6em}.bad{background:#fbe9e9;padding:.6em}
.state{font-family:monospace;font-size:.9em}
</style></head><body>
<h1>cloud2mqtt</h1>
{{with .Flash}}<p class="{{if .OK}}ok{{else}}bad{{end}}" role="status">{{.Text}}</p>{{end}}
<h2>Accounts</h2>
<table><tr><th>Account</th><th>Cloud</th><th>Status</th><th>Token expiry</th><th>Push</th><th>Last error</th><th></th></tr>
{{range .Accounts}}<tr><td>{{.Name}}</td><td>{{.Cloud}}</td><td>{{.Status}}</td><td>{{.Expiry}}</td><td>{{.Push}}</td><td>{{.Error}}</td>
<td>{{if .Connect}}<form method="post" action="/connect"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="account" value="{{.Name}}"><button type="submit">Connect</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="7">No accounts configured.</td></tr>{{end}}
</table>
<p>Connect sends you to the cloud's login page, which comes back to <code>{{.Redirect}}</code>; that address must be registered as the client's redirect URI.</p>
<h2>Devices</h2>
<table><tr><th>Account</th><th>Device</th><th>Type</th><th>Topic</th><th>Available</th><th>State</th></tr>
{{range .Devices}}<tr><td>{{.Account}}</td><td>{{.Name}}</td><td>{{.Type}}</td><td><code>{{.Topic}}</code></td><td>{{if .Available}}online{{else}}offline{{end}}</td>
<td class="state">{{range .StateText}}{{.}}<br>{{end}}</td></tr>
{{else}}<tr><td colspan="6">No devices yet.</td></tr>{{end}}
</table>
<p><small>Rendered {{.Now}}. Reload to refresh.</small></p>
</body></html>
`))
