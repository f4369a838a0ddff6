package rewritetest

import "testing"

func TestUntouchedLinesKept(t *testing.T) {
	old := []byte("FROM a\n\n\nEXPOSE 80\n\n\nCMD x\n")
	tests := []struct {
		name    string
		new     string
		touched map[int]bool
		want    int // line reported, 0 = kept
	}{
		{"a moved line whose diff deletes the blank before it", "FROM a\n\n\n\nFROM b\nEXPOSE 80\nCMD x\n", map[int]bool{4: true, 5: true}, 0},
		{"an untouched line changed", "FROM a\n\n\nEXPOSE 80\n\n\nCMD y\n", map[int]bool{4: true}, 7},
		{"an untouched line deleted", "FROM a\n\n\n\n\nCMD x\n", map[int]bool{1: true}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, _, ok := untouchedLinesKept(old, []byte(tt.new), tt.touched)
			if ok != (tt.want == 0) || line != tt.want {
				t.Errorf("got line %d ok %v, want line %d", line, ok, tt.want)
			}
		})
	}
}
