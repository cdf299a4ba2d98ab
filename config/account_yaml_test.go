package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestValueNodesAreEncode: the nodes of an account's values, made by one
// Encode of them all, write the same YAML as each value's own Encode.
func TestValueNodesAreEncode(t *testing.T) {
	values := []any{
		"", "plain", "true", "no", "Yes", "off", "null", "~", "123", "1.5", "0x1F", "1e3", ".inf", "1:20",
		"a: b", "- item", "#comment", " leading", "trailing ", "it's", `say "hi"`,
		"line one\nline two", "line\n", "tab\there", "ünïcødé", "***", "http://u:***@h:1883/p?q=1",
		"@at", "`tick", "%percent", "&anchor", "*alias", "!tag", "{x}", "[y]", "|", ">", "---", "...",
		"\xff\xfe", 42, true, 1.5, time.Second, []string{"a", "b"}, map[string]int{"x": 1},
	}
	nodes, err := valueNodes(values)
	if err != nil {
		t.Fatal(err)
	}
	mapping := func(v *yaml.Node) string {
		t.Helper()
		out, err := yaml.Marshal(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "k"}, v}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for i, v := range values {
		var want yaml.Node
		if err := want.Encode(v); err != nil {
			t.Fatal(err)
		}
		if got, want := mapping(nodes[i]), mapping(&want); got != want {
			t.Errorf("%#v: YAML\n%s\nwant\n%s", v, got, want)
		}
	}
}

// refusing is a setting whose YAML cannot be written.
type refusing struct{}

func (refusing) MarshalYAML() (any, error) { return nil, errors.New("refused") }

// oddSettings are a cloud's settings with one of them refusing.
type oddSettings struct {
	Region string   `mapstructure:"region"`
	Odd    refusing `mapstructure:"odd"`
}

func (*oddSettings) Validate(string, string) error { return nil }

// TestAccountYAMLNamesTheKeyItCannotWrite: a value the encoder refuses is
// reported with its account and key.
func TestAccountYAMLNamesTheKeyItCannotWrite(t *testing.T) {
	a := Account{Name: "home", Cloud: "test", Settings: &oddSettings{Region: "eu"}}
	_, err := a.MarshalYAML()
	if err == nil || !strings.Contains(err.Error(), "account home: key odd") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("MarshalYAML: %v, want it to name account home, key odd", err)
	}
}
