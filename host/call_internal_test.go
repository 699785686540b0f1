package host

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeParams(t *testing.T) {
	type params struct {
		Model string `json:"model,omitempty"`
		Cwd   string `json:"cwd,omitempty"`
	}
	got, err := mergeParams(params{Model: "typed", Cwd: "/w"}, map[string]any{"model": "extra", "cwd": nil, "new": []int{1}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"extra","new":[1]}`, string(got), "Extra wins; nil removes")

	got, err = mergeParams(nil, map[string]any{"a": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":1}`, string(got))

	_, err = mergeParams([]int{1}, map[string]any{"a": 1})
	require.Error(t, err, "params that are not an object cannot take Extra")

	_, err = mergeParams(params{}, map[string]any{"bad": make(chan int)})
	require.ErrorContains(t, err, `Extra["bad"]`)
}

func TestJoinExtra(t *testing.T) {
	base := map[string]any{"a": 1, "b": 2}
	over := map[string]any{"b": 3}
	assert.Equal(t, map[string]any{"a": 1, "b": 3}, joinExtra(base, over))
	assert.Equal(t, map[string]any{"a": 1, "b": 2}, base, "base is not modified")
	assert.Nil(t, joinExtra(nil, nil))
	assert.Equal(t, over, joinExtra(nil, over))
}

func TestCodexVersionFromUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"codexhost/0.169.0 (Debian 12.0.0; x86_64) xterm (codexhost; 0.1.0)": "0.169.0",
		"my/app/0.171.0 (x)":         "0.171.0",
		"codexhost/0.170.0-alpha.2":  "0.170.0-alpha.2",
		"fake/0":                     "",
		"":                           "",
		"codexhost 0.169.0":          "",
		"codexhost/v0.169.0 (linux)": "",
	} {
		assert.Equal(t, want, codexVersionFromUserAgent(ua), ua)
	}
}
