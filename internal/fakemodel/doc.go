// Package fakemodel is the fake OpenAI Responses API server of
// host/hosttest, where it is documented. It lives here, outside host, so
// that the codexhost binary (its demo) can use it without linking a test
// package; host/hosttest re-exports all of it.
package fakemodel
