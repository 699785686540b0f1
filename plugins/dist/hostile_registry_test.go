package dist_test

// A hostile registry (review, round 10), put in front of the real one
// (disttest's docker-registry) as a reverse proxy that forwards
// everything but what it lies about.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist"
)

// hostileProxy forwards to the real registry reg, except for the requests
// intercept answers (it returns true then).
func hostileProxy(t *testing.T, f *fixture, intercept func(w http.ResponseWriter, r *http.Request) bool) *httptest.Server {
	t.Helper()
	target, err := url.Parse("http://" + f.reg.Host)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// proxiedRef is s in the proxy's registry.
func proxiedRef(t *testing.T, srv *httptest.Server, s string) dist.Ref {
	t.Helper()
	r, err := dist.ParseRef("oci://" + strings.TrimPrefix(srv.URL, "http://") + "/" + s)
	require.NoError(t, err)
	return r
}

// A registry answers the referrers API with page after page, each linking
// to the next. The listing stops at maxSignatures signatures, and at
// maxReferrerPages pages whatever they hold: before, it never ended, and
// kept every descriptor of every page (1001 pages, 2M descriptors, in
// 8.7 s, still going).
func TestReferrersPagesWithoutEnd(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	f.push(t, ref, f.module, &f.cfg)
	for _, perPage := range []int{2000, 1} { // enough on one page; one a page
		t.Run(fmt.Sprint(perPage), func(t *testing.T) {
			var pages atomic.Int64
			tooMany := make(chan struct{})
			var once sync.Once
			sigs := make([]ocispec.Descriptor, perPage)
			for i := range sigs {
				sigs[i] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: dist.SignatureArtifactType,
					Digest: digest.FromString(fmt.Sprint(i)), Size: 100}
			}
			page, err := json.Marshal(ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: sigs})
			require.NoError(t, err)
			const bound = 100
			srv := hostileProxy(t, f, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/referrers/") {
					return false
				}
				if pages.Add(1) >= bound {
					once.Do(func() { close(tooMany) })
				}
				w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
				w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, r.URL.Path, pages.Load()))
				_, _ = w.Write(page)
				return true
			})
			ctx, cancel := context.WithCancel(context.Background()) // no deadline, as the CLI's
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := dist.Pull(ctx, proxiedRef(t, srv, "policies/deny-rm:1.0.0"), f.opts(t))
				done <- err
			}()
			select {
			case err := <-done:
				t.Logf("pull ended after %d pages of referrers: %v", pages.Load(), err)
				require.LessOrEqual(t, pages.Load(), int64(16))
			case <-tooMany:
				cancel()
				err := <-done
				t.Fatalf("pull read %d pages of referrers and was still reading (cancelled: %v)", pages.Load(), err)
			}
		})
	}
}

// A registry that accepts the request and never answers: each response's
// headers must come within ResponseTimeout (default 60 s); the pull then
// fails, saying so. Before, it waited for ever (http.DefaultClient, and no
// deadline on the CLI's context).
func TestStalledRegistry(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	f.push(t, ref, f.module, &f.cfg)
	release := make(chan struct{})
	srv := hostileProxy(t, f, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		select { // no answer until the test ends
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	defer close(release)
	opts := f.opts(t)
	opts.ResponseTimeout = 500 * time.Millisecond
	start := time.Now()
	_, err := dist.Pull(context.Background(), proxiedRef(t, srv, "policies/deny-rm:1.0.0"), opts)
	require.Error(t, err)
	t.Logf("after %v: %v", time.Since(start), err)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "a timeout: %v", err)
}

// A registry that sends a blob's headers and then trickles its body, a
// byte at a time, would hold a pull for as long as it likes: the response
// timeout covers headers only (review, round 12). A body slower than
// MinBodyBytesPerWindow per ResponseTimeout is cut off with
// ErrSlowRegistry; a body that is merely fast enough is read whole.
func TestTricklingRegistry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stall bool
	}{{"stalls after a few bytes", true}, {"whole body at once", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ref := f.ref(t, "policies/deny-rm:1.0.0")
			f.push(t, ref, f.module, &f.cfg)
			release := make(chan struct{})
			defer close(release)
			srv := hostileProxy(t, f, func(w http.ResponseWriter, r *http.Request) bool {
				if !tc.stall || !strings.Contains(r.URL.Path, "/blobs/") || r.Method != http.MethodGet {
					return false
				}
				// Fetch the real blob, send its headers and 10 bytes, then
				// nothing until the client gives up.
				resp, err := http.Get("http://" + f.reg.Host + r.URL.Path)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return true
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
				w.WriteHeader(resp.StatusCode)
				_, _ = w.Write(body[:min(10, len(body))])
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return true
			})
			opts := f.opts(t)
			opts.ResponseTimeout = 300 * time.Millisecond
			opts.AllowUnsigned = true // the fixture pushed no signature
			_, err := dist.Pull(context.Background(), proxiedRef(t, srv, "policies/deny-rm:1.0.0"), opts)
			if !tc.stall {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, dist.ErrSlowRegistry)
		})
	}
}
