package render

import "testing"

func TestTook(t *testing.T) {
	for ms, want := range map[int]string{0: "", -5: "", 1: " in 1ms", 999: " in 999ms", 1000: " in 1.0s", 1550: " in 1.6s", 59_999: " in 60.0s", 60_000: " in 1m00s", 125_000: " in 2m05s"} {
		if got := took(ms); got != want {
			t.Errorf("took(%d) = %q, want %q", ms, got, want)
		}
	}
}
