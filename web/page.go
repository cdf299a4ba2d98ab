package web

import "html/template"

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cloud2mqtt</title>
<style>
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:72rem;padding:1rem;line-height:1.4;color:#1d1d1f;background:#f6f6f8}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .6rem}h3{font-size:1rem;margin:0 0 .4rem;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,17rem),1fr));gap:.75rem}
.card{background:#fff;border:1px solid #ddd;border-radius:.6rem;padding:.75rem;min-width:0}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .75rem;margin:0;font-size:.92rem}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}
code{font-size:.85em;overflow-wrap:anywhere}
.meta{color:#666;font-size:.85rem;margin:0 0 .5rem;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:1rem;padding:0 .5rem;font-size:.8rem;background:#eee}
.good{background:#dff3df;color:#185c18}.warn{background:#fff1d6;color:#6b4a00}.fail{background:#fbe0e0;color:#7a1616}
.swatch{display:inline-block;width:1em;height:1em;border-radius:.2em;border:1px solid #0003;vertical-align:-.15em;margin-right:.3em}
.ok{background:#e6f4e6;padding:.6em;border-radius:.4rem}.bad{background:#fbe9e9;padding:.6em;border-radius:.4rem}
button{font:inherit;padding:.35rem .9rem;margin-top:.5rem;border-radius:.4rem;border:1px solid #888;background:#fff;cursor:pointer}
footer{color:#666;font-size:.8rem;margin-top:1.5rem}
</style>
<script src="app.js" defer></script>
</head><body>
<h1>cloud2mqtt</h1>
{{with .Flash}}<p class="{{if .OK}}ok{{else}}bad{{end}}" role="status">{{.Text}}</p>{{end}}
<h2>Accounts</h2>
<div id="accounts" class="cards">{{template "accounts" .}}</div>
<p class="meta">Connect sends you to the cloud's login page, which comes back to <code>{{.Redirect}}</code>; that address must be registered as the client's redirect URI.</p>
<h2>Devices</h2>
<div id="devices" class="cards">{{template "devices" .}}</div>
<footer><span id="live" data-state="static">Updated</span> <span id="now">{{.Now}}</span>.</footer>
</body></html>
{{define "accounts"}}{{range .Accounts}}<section class="card" data-account="{{.Name}}">
<h3>{{.Name}} <span class="badge {{.StatusClass}}">{{.Status}}</span></h3>
<dl><dt>Cloud</dt><dd>{{.Cloud}}</dd>
<dt>Push</dt><dd>{{.Push}}</dd>
{{if .Path}}<dt>Path</dt><dd>{{.Path}}{{with .PathReason}} ({{.}}){{end}}</dd>{{end}}
<dt>Token expiry</dt><dd{{with .ExpiryAt}} title="{{.}}"{{end}}>{{.Expiry}}</dd>
{{with .Error}}<dt>Last error</dt><dd>{{.}}</dd>{{end}}</dl>
{{if .Connect}}<form method="post" action="connect"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="account" value="{{.Name}}"><button type="submit">Connect</button></form>{{end}}
</section>{{else}}<p>No accounts configured.</p>{{end}}{{end}}
{{define "devices"}}{{range .Devices}}<section class="card" data-topic="{{.Topic}}">
<h3>{{.Name}} <span class="badge {{if .Available}}good">online{{else}}fail">offline{{end}}</span></h3>
<p class="meta">{{.Account}} · {{.Type}} · <code>{{.Topic}}</code>{{with .Updated}}<br>updated {{.}}{{end}}</p>
<dl>{{range .Fields}}<dt>{{.Label}}</dt><dd data-field="{{.Label}}">{{with .Swatch}}<span class="swatch" style="{{.}}"></span>{{end}}{{.Text}}</dd>{{end}}</dl>
</section>{{else}}<p>No devices yet.</p>{{end}}{{end}}
`))

// appJS keeps the page current: it replaces the accounts and devices with
// every update the server pushes on /events.
const appJS = `"use strict";
(function () {
  var live = document.getElementById("live");
  if (!window.EventSource) { return; }
  var es = new EventSource("events");
  es.addEventListener("update", function (e) {
    var d = JSON.parse(e.data);
    document.getElementById("accounts").innerHTML = d.accounts;
    document.getElementById("devices").innerHTML = d.devices;
    document.getElementById("now").textContent = d.now;
    live.textContent = "Live, updated";
    live.dataset.state = "live";
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
  es.onopen = function () { live.textContent = "Live, updated"; live.dataset.state = "live"; };
  es.onerror = function () { live.textContent = "Reconnecting… last updated"; live.dataset.state = "reconnecting"; };
})();
`
