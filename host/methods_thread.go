package host

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// SetThreadName names a thread (thread/name/set). Observers see the
// thread/name/updated notification that follows.
func (c *Client) SetThreadName(ctx context.Context, threadID, name string) error {
	p := protocol.ThreadSetNameParams{ThreadID: threadID, Name: name}
	if err := c.call(ctx, protocol.ClientThreadNameSet, p, nil); err != nil {
		return fmt.Errorf("host: thread/name/set %s: %w", threadID, err)
	}
	return nil
}

// LoadedThreads yields the ids of the threads app-server has loaded in
// memory (thread/loaded/list): those started, resumed or forked on this
// app-server and not yet unloaded. Iteration stops at the first error,
// which is yielded.
func (c *Client) LoadedThreads(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var p protocol.ThreadLoadedListParams
		for {
			var resp protocol.ThreadLoadedListResponse
			if err := c.call(ctx, protocol.ClientThreadLoadedList, p, &resp); err != nil {
				yield("", fmt.Errorf("host: thread/loaded/list: %w", err))
				return
			}
			for _, id := range resp.Data {
				if !yield(id, nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			p.Cursor = resp.NextCursor
		}
	}
}

// HistoryOptions page through a thread's history ([Client.ThreadTurns],
// [Client.ThreadItems]). A nil *HistoryOptions means oldest first, in the
// server's page size.
type HistoryOptions struct {
	// NewestFirst reverses the order.
	NewestFirst bool
	// PageSize is how many entries each request fetches. Default: server's.
	PageSize int
	// TurnID limits [Client.ThreadItems] to one turn.
	TurnID string
	// WithoutItems makes [Client.ThreadTurns] return turns without their
	// items (codex's "notLoaded" view), which is cheap for long threads.
	WithoutItems bool
}

func (o *HistoryOptions) direction() *protocol.SortDirection {
	if o.NewestFirst {
		return ptr(protocol.SortDirectionDesc)
	}
	return ptr(protocol.SortDirectionAsc)
}

// ThreadTurns yields a stored thread's turns with their items
// (thread/turns/list), fetching pages as the loop advances. It is what
// codex asks clients to use instead of ReadThread(…, true) and the turns in
// ResumeThread and ForkThread, which newer codex versions deprecate.
// Iteration stops at the first error, which is yielded.
func (c *Client) ThreadTurns(ctx context.Context, threadID string, opts *HistoryOptions) iter.Seq2[*TurnRecord, error] {
	return func(yield func(*TurnRecord, error) bool) {
		o := opts
		if o == nil {
			o = &HistoryOptions{}
		}
		p := protocol.ThreadTurnsListParams{ThreadID: threadID, SortDirection: o.direction()}
		if o.PageSize > 0 {
			p.Limit = ptr(o.PageSize)
		}
		p.ItemsView = ptr(protocol.TurnItemsViewFull)
		if o.WithoutItems {
			p.ItemsView = ptr(protocol.TurnItemsViewNotLoaded)
		}
		for {
			var resp protocol.ThreadTurnsListResponse
			if err := c.call(ctx, protocol.ClientThreadTurnsList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: thread/turns/list %s: %w", threadID, err))
				return
			}
			for i := range resp.Data {
				if !yield(turnRecordFromWire(&resp.Data[i], threadID), nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			p.Cursor = resp.NextCursor
		}
	}
}

// An ItemRecord is one item of a thread's history, as [Client.ThreadItems]
// yields it.
type ItemRecord struct {
	TurnID string
	Item   *Item
	// StartedAtMs and CompletedAtMs are Unix milliseconds, 0 if unknown.
	StartedAtMs, CompletedAtMs int64
}

// ThreadItems yields the items of a stored thread, or of one turn of it
// (opts.TurnID), across turns (thread/items/list). Iteration stops at the
// first error, which is yielded.
func (c *Client) ThreadItems(ctx context.Context, threadID string, opts *HistoryOptions) iter.Seq2[*ItemRecord, error] {
	return func(yield func(*ItemRecord, error) bool) {
		o := opts
		if o == nil {
			o = &HistoryOptions{}
		}
		p := protocol.ThreadItemsListParams{ThreadID: threadID, SortDirection: o.direction(), TurnID: optStr(o.TurnID)}
		if o.PageSize > 0 {
			p.Limit = ptr(o.PageSize)
		}
		for {
			var resp protocol.ThreadItemsListResponse
			if err := c.call(ctx, protocol.ClientThreadItemsList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: thread/items/list %s: %w", threadID, err))
				return
			}
			for i := range resp.Data {
				e := &resp.Data[i]
				raw, _ := json.Marshal(&e.Item)
				r := &ItemRecord{TurnID: e.TurnID, Item: itemFromWire(&e.Item, raw)}
				if e.StartedAtMs != nil {
					r.StartedAtMs = int64(*e.StartedAtMs)
				}
				if e.CompletedAtMs != nil {
					r.CompletedAtMs = int64(*e.CompletedAtMs)
				}
				if !yield(r, nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			cur := protocol.ThreadItemsListCursor(strconv.Quote(*resp.NextCursor))
			p.Cursor = &cur
		}
	}
}

// turnRecordFromWire converts a wire turn of thread threadID.
func turnRecordFromWire(wt *protocol.Turn, threadID string) *TurnRecord {
	tr := &TurnRecord{ID: wt.ID, Status: TurnState(wt.Status)}
	for j := range wt.Items {
		raw, _ := json.Marshal(&wt.Items[j])
		tr.Items = append(tr.Items, itemFromWire(&wt.Items[j], raw))
	}
	if wt.Error != nil {
		tr.Error = turnErrorFromWire(wt.Error, threadID, wt.ID)
	}
	return tr
}

// readThreadWithTurns reads a thread with its whole history the way codex
// asks for it: a paginated thread's turns paged with thread/turns/list
// (newer codex versions deprecate includeTurns for those), a legacy
// thread's with thread/read includeTurns.
func (c *Client) readThreadWithTurns(ctx context.Context, threadID string) (*Thread, error) {
	var resp protocol.ThreadReadResponse
	if err := c.call(ctx, protocol.ClientThreadRead, protocol.ThreadReadParams{ThreadID: threadID}, &resp); err != nil {
		return nil, fmt.Errorf("host: thread/read %s: %w", threadID, err)
	}
	th := threadFromWire(&resp.Thread)
	if err := c.fillTurns(ctx, th, resp.Thread.HistoryMode); err != nil {
		return nil, err
	}
	return th, nil
}

// fillTurns sets th.Turns to the thread's whole history, oldest first.
func (c *Client) fillTurns(ctx context.Context, th *Thread, mode protocol.ThreadHistoryMode) error {
	th.Turns = nil
	if mode == protocol.ThreadHistoryModeLegacy {
		var resp protocol.ThreadReadResponse
		p := protocol.ThreadReadParams{ThreadID: th.ID, IncludeTurns: ptr(true)}
		if err := c.call(ctx, protocol.ClientThreadRead, p, &resp); err != nil {
			return fmt.Errorf("host: thread/read %s: %w", th.ID, err)
		}
		for i := range resp.Thread.Turns {
			th.Turns = append(th.Turns, *turnRecordFromWire(&resp.Thread.Turns[i], th.ID))
		}
		return nil
	}
	for tr, err := range c.ThreadTurns(ctx, th.ID, nil) {
		if err != nil {
			return err
		}
		th.Turns = append(th.Turns, *tr)
	}
	return nil
}
