package rewrite

import (
	"errors"
	"reflect"
	"testing"
)

func TestOptionsSet(t *testing.T) {
	flag := &Option{Name: "flag", Type: BoolOption}
	num := &Option{Name: "num", Type: IntOption, Check: func(v any) error {
		if v.(int) < 0 {
			return errors.New("must be positive")
		}
		return nil
	}}
	word := &Option{Name: "word", Type: StringOption}
	list := &Option{Name: "list", Type: ListOption}
	m := &Option{Name: "map", Type: MapOption}
	opts := Options{}
	for _, set := range []struct {
		o    *Option
		text string
	}{{flag, ""}, {num, "3"}, {num, "7"}, {word, "a"}, {list, "x,y"}, {list, "z"}, {m, "go=img"}, {m, "node=n=1"}} {
		if err := opts.Set(set.o, set.text); err != nil {
			t.Fatalf("Set(%s, %q): %v", set.o.Name, set.text, err)
		}
	}
	env := &Env{Options: opts}
	if !flag.Bool(env) || num.Int(env) != 7 || word.String(env) != "a" ||
		!reflect.DeepEqual(list.List(env), []string{"x", "y", "z"}) ||
		!reflect.DeepEqual(m.Map(env), map[string]string{"go": "img", "node": "n=1"}) {
		t.Errorf("values %#v", opts)
	}
	for _, bad := range []struct {
		o    *Option
		text string
	}{{flag, "maybe"}, {num, "ten"}, {num, "-1"}, {m, "novalue"}} {
		if err := opts.Set(bad.o, bad.text); err == nil {
			t.Errorf("Set(%s, %q) accepted", bad.o.Name, bad.text)
		}
	}
	if got := num.Int(&Env{}); got != 0 {
		t.Errorf("unset int = %d", got)
	}
}

func TestOptionsOverKeepsWhatIsNotSet(t *testing.T) {
	base := Options{"uid": 1, "target": "a", "list": []string{"x"}}
	got := base.Over(Options{"uid": 0, "target": "b", "flag": false, "list": []string(nil), "name": "n"})
	want := Options{"uid": 1, "target": "b", "list": []string{"x"}, "name": "n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Over = %#v, want %#v", got, want)
	}
	if base["target"] != "a" {
		t.Error("Over changed its receiver")
	}
}
