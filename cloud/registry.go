package cloud

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

// Settings is one account's cloud-specific configuration: a pointer to a
// struct whose `mapstructure` tags name the account's keys in config.yaml
// (client_id, api_url, …). The configuration decodes each account's keys
// into the Settings its cloud hands out, then asks it to validate itself.
type Settings interface {
	// Validate returns every problem, joined, each naming its key as
	// path.<key> (path is e.g. "accounts[2]") and the fix. account is the
	// account's name, for hints such as AccountEnvVar(account, key).
	Validate(path, account string) error
}

// Env is what a provider gets beside its settings.
type Env struct {
	Account string            // the account's name, used in topics and the token store
	Tokens  *tokenstore.Store // where tokens are kept; nil keeps them in memory
	Logger  *slog.Logger      // nil discards
	// HTTPClient, when set, makes the provider's calls (one that counts
	// them for metrics); nil keeps the cloud's default.
	HTTPClient *http.Client
}

// Registration is everything the rest of the program knows of one cloud.
// Each cloud package offers a Register function that adds its own.
type Registration struct {
	// Name is the value of accounts[].cloud ("wink").
	Name string
	// Settings returns fresh settings with the cloud's defaults.
	Settings func() Settings
	// Secrets are the keys of Settings whose values are masked wherever the
	// configuration is shown.
	Secrets []string
	// New builds the account's provider.
	New func(s Settings, env Env) (Provider, error)
	// Emulate starts the cloud's emulator on loopback, furnished with a
	// demo home, for `cloud2mqtt demo` and `cloud2mqtt emulate`. Nil when
	// the cloud has none.
	Emulate func(o EmulateOptions) (*Emulator, error)
}

// EmulateOptions configures an emulator started through a Registration.
type EmulateOptions struct {
	// ClientID and ClientSecret are the OAuth client the emulator knows.
	ClientID, ClientSecret string
	Logger                 *slog.Logger
	// Accounts is how many accounts (each a home of its own) the emulator
	// serves; below 1: one.
	Accounts int
	// Devices, when above 0, furnishes every account with that many
	// generated devices of mixed kinds instead of the demo home.
	Devices int
	// Port, when not 0, is the first of the fixed loopback ports the
	// emulator listens on: it uses EmulatorPorts ports per account, from
	// Port on. 0: random free ports.
	Port int
}

// EmulatorPorts is the number of ports an emulator listens on per account
// (e.g. REST and push), for EmulateOptions.Port.
const EmulatorPorts = 2

// AccountCount is o.Accounts, at least 1.
func (o EmulateOptions) AccountCount() int { return max(o.Accounts, 1) }

// Addr is the loopback address of the emulator's port i of account n
// (both from 0), or "" for a random port when o.Port is 0.
func (o EmulateOptions) Addr(n, i int) string {
	if o.Port == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", o.Port+n*EmulatorPorts+i)
}

// AccountName is the name of account n (from 0) of cloud: the cloud's
// name for the first, then name-2, name-3, …
func (o EmulateOptions) AccountName(cloud string, n int) string {
	if n == 0 {
		return cloud
	}
	return fmt.Sprintf("%s-%d", cloud, n+1)
}

// Emulator is a running cloud emulator.
type Emulator struct {
	// Accounts returns configuration entries that point at the emulator,
	// with fresh credentials.
	Accounts func() []EmulatedAccount
	// Describe says in a line where the emulator listens.
	Describe string
	// Animate changes sensors every interval until ctx ends.
	Animate func(ctx context.Context, every time.Duration)
	// Close stops the emulator.
	Close func()
}

// EmulatedHome is one account's emulator server.
type EmulatedHome interface {
	// Animate changes sensors every interval until ctx ends.
	Animate(ctx context.Context, every time.Duration)
	// Close stops the server.
	Close()
}

// StartHomes starts one emulator server per account of o with start(n)
// (n from 0); on an error it closes those already started.
func StartHomes[H EmulatedHome](o EmulateOptions, start func(n int) (H, error)) ([]H, error) {
	homes := make([]H, 0, o.AccountCount())
	for n := range o.AccountCount() {
		h, err := start(n)
		if err != nil {
			for _, started := range homes {
				started.Close()
			}
			return nil, err
		}
		homes = append(homes, h)
	}
	return homes, nil
}

// HomesEmulator is the Emulator of homes (from StartHomes): accounts lists
// their configuration entries, describe says where the first listens.
func HomesEmulator[H EmulatedHome](homes []H, describe string, accounts func() []EmulatedAccount) *Emulator {
	if len(homes) > 1 {
		describe += fmt.Sprintf(" (and %d more accounts)", len(homes)-1)
	}
	return &Emulator{
		Accounts: accounts,
		Describe: describe,
		Animate: func(ctx context.Context, every time.Duration) {
			for _, h := range homes[1:] {
				go h.Animate(ctx, every)
			}
			homes[0].Animate(ctx, every)
		},
		Close: func() {
			for _, h := range homes {
				h.Close()
			}
		},
	}
}

// EmulatedAccount is one accounts: entry for an emulator, as config.yaml
// would hold it.
type EmulatedAccount struct {
	Name string
	// Keys are the cloud's keys in the order they are printed.
	Keys []KeyValue
	// ExtraOnly marks an entry `emulate` prints but `demo` does not bridge
	// (a second way into the same home).
	ExtraOnly bool
}

// KeyValue is one configuration key and its value.
type KeyValue struct {
	Key   string
	Value any
}

// Registry holds the registered clouds. The zero value is not usable;
// create one with NewRegistry.
type Registry struct {
	byName map[string]Registration
}

// NewRegistry returns a registry holding regs.
func NewRegistry(regs ...Registration) *Registry {
	r := &Registry{byName: map[string]Registration{}}
	for _, reg := range regs {
		r.Register(reg)
	}
	return r
}

// Register adds a cloud. A second cloud of the same name, or a registration
// without a name, settings or constructor, is a programming error and
// panics.
func (r *Registry) Register(reg Registration) {
	switch {
	case reg.Name == "" || reg.Settings == nil || reg.New == nil:
		panic(fmt.Sprintf("cloud: registration %q needs a name, settings and a constructor", reg.Name))
	case r.byName[reg.Name].Name != "":
		panic(fmt.Sprintf("cloud: %q is registered twice", reg.Name))
	}
	r.byName[reg.Name] = reg
}

// Lookup returns the cloud named name.
func (r *Registry) Lookup(name string) (Registration, bool) {
	reg, ok := r.byName[name]
	return reg, ok
}

// Names returns the registered clouds' names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Registrations returns every registration, sorted by name.
func (r *Registry) Registrations() []Registration {
	out := make([]Registration, 0, len(r.byName))
	for _, n := range r.Names() {
		out = append(out, r.byName[n])
	}
	return out
}

// UnknownError says that accounts[].cloud names no registered cloud, and
// lists those that are.
func (r *Registry) UnknownError(path, name string) error {
	quoted := make([]string, 0, len(r.byName))
	for _, n := range r.Names() {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	if name == "" {
		return fmt.Errorf("%s.cloud: is missing: set it to one of %s", path, strings.Join(quoted, ", "))
	}
	return fmt.Errorf("%s.cloud: %q is not supported: use one of %s", path, name, strings.Join(quoted, ", "))
}

// AccountEnvVar returns the environment variable that sets key of the
// account named name, e.g. CLOUD2MQTT_ACCOUNT_WINK_HOME_CLIENT_SECRET for
// ("wink-home", "client_secret").
func AccountEnvVar(name, key string) string {
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	return "CLOUD2MQTT_ACCOUNT_" + n + "_" + strings.ToUpper(key)
}

// EnvHint names the environment variable of an account's key, for a fix
// that says "set accounts[i].key (or CLOUD2MQTT_ACCOUNT_…)".
func EnvHint(account, key string) string {
	if account == "" {
		return "its environment variable"
	}
	return AccountEnvVar(account, key)
}
