package memo

import (
	"strconv"
	"testing"
)

func TestMapRemembersAndStaysBounded(t *testing.T) {
	calls := 0
	f := func(s string) int { calls++; return len(s) }
	c := &Map[int]{Max: 3}
	if c.Get("ab", f) != 2 || c.Get("ab", f) != 2 || calls != 1 {
		t.Fatalf("a second Get of the same key called f again (calls %d)", calls)
	}
	for i := range 10 {
		if got := c.Get(strconv.Itoa(i*100), f); got != len(strconv.Itoa(i*100)) {
			t.Fatalf("Get = %d", got)
		}
	}
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n > 3 {
		t.Errorf("%d entries held, Max is 3", n)
	}
}
