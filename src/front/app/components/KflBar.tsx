/**
 * The KFL filter bar: what you type is checked by the hub (`/api/kfl`, debounced) and a bad
 * filter shows its message with a caret under the exact column; names complete from the field
 * catalogue, macros and protocol flags (↑ ↓ to move, Tab or Enter to take, Esc to close);
 * Enter applies.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { KflCheck } from '../../../api/types.ts';
import { api, errorBody } from '../lib/api.ts';
import { useDebounced } from '../lib/hooks.ts';
import { applySuggestion, suggest, wordAt, type Field, type Suggestion } from '../lib/kfl.ts';
import { KFL_CHECK_DEBOUNCE_MS, MAX_SUGGESTIONS } from '../lib/limits.ts';

interface Props {
  value: string;
  applied: string;
  onChange: (q: string) => void;
  onApply: (q: string) => void;
  fields: readonly Field[];
  macros: Readonly<Record<string, string>>;
}

/** Left padding of the input in px (the caret and the menu line up with characters). */
const PAD = 10;

export function KflBar({ value, applied, onChange, onApply, fields, macros }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [cursor, setCursor] = useState(value.length);
  const [menuOpen, setMenuOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [scrollLeft, setScrollLeft] = useState(0);
  const [charWidth, setCharWidth] = useState(8);
  const [check, setCheck] = useState<KflCheck | undefined>();
  const pendingCursor = useRef<number | undefined>(undefined);

  const checked = useDebounced(value, KFL_CHECK_DEBOUNCE_MS);
  useEffect(() => {
    const ctl = new AbortController();
    if (checked.trim() === '') {
      setCheck({ ok: true, kfl: '', kfl2: '' });
      return;
    }
    api.kfl(checked, ctl.signal).then(
      (c) => setCheck(c),
      (err: unknown) => {
        if (!ctl.signal.aborted) setCheck({ ok: false, error: errorBody(err) });
      },
    );
    return () => ctl.abort();
  }, [checked]);
  // A check of older text must not be shown against newer text.
  const current = checked === value ? check : undefined;

  useLayoutEffect(() => {
    const el = input.current;
    if (el === null) return;
    const ctx = document.createElement('canvas').getContext('2d');
    if (ctx !== null) {
      ctx.font = getComputedStyle(el).font;
      setCharWidth(ctx.measureText('0'.repeat(100)).width / 100);
    }
  }, []);
  useLayoutEffect(() => {
    const el = input.current;
    if (el !== null && pendingCursor.current !== undefined) {
      el.setSelectionRange(pendingCursor.current, pendingCursor.current);
      setCursor(pendingCursor.current);
      pendingCursor.current = undefined;
    }
  }, [value]);

  const word = useMemo(() => wordAt(value, cursor), [value, cursor]);
  const suggestions: Suggestion[] = useMemo(
    () => (word === undefined ? [] : suggest(word.text, fields, macros, MAX_SUGGESTIONS)),
    [word, fields, macros],
  );
  const showMenu = menuOpen && suggestions.length > 0;

  const take = (s: Suggestion): void => {
    if (word === undefined) return;
    const r = applySuggestion(value, word.start, word.end, s.insert);
    pendingCursor.current = r.cursor;
    onChange(r.text);
    setMenuOpen(false);
  };

  const onKeyDown = (ev: KeyboardEvent<HTMLInputElement>): void => {
    if (showMenu) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        const d = ev.key === 'ArrowDown' ? 1 : -1;
        setActive((a) => (a + d + suggestions.length) % suggestions.length);
        return;
      }
      if (ev.key === 'Tab' || ev.key === 'Enter') {
        ev.preventDefault();
        const s = suggestions[Math.min(active, suggestions.length - 1)];
        if (s !== undefined) take(s);
        return;
      }
      if (ev.key === 'Escape') {
        ev.preventDefault();
        setMenuOpen(false);
        return;
      }
    }
    if (ev.key === 'Enter') {
      ev.preventDefault();
      onApply(value);
    } else if (ev.key === 'Escape') {
      onChange(applied);
    }
  };

  const track = (): void => {
    const el = input.current;
    if (el === null) return;
    setCursor(el.selectionStart ?? el.value.length);
    setScrollLeft(el.scrollLeft);
  };

  const err = current !== undefined && !current.ok ? current.error : undefined;
  const col = err?.column;
  const translated =
    current?.ok === true && current.kfl2 !== undefined && current.kfl2 !== current.kfl?.trim()
      ? current.kfl2
      : undefined;
  const dirty = value.trim() !== applied;
  const x = (column: number): number => PAD + (column - 1) * charWidth - scrollLeft;

  return (
    <div className="kfl">
      <div className="kfl-row">
        <div className={`kfl-field${err ? ' bad' : current?.ok ? ' good' : ''}`}>
          <input
            ref={input}
            className="kfl-input"
            aria-label="KFL filter"
            data-testid="kfl-input"
            spellCheck={false}
            autoComplete="off"
            placeholder='KFL filter, e.g. http && status_code >= 500 && dst.name == "cart"'
            value={value}
            onChange={(ev) => {
              onChange(ev.target.value);
              setCursor(ev.target.selectionStart ?? ev.target.value.length);
              setMenuOpen(true);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
            onKeyUp={track}
            onClick={track}
            onScroll={track}
            onSelect={track}
            onBlur={() => setTimeout(() => setMenuOpen(false), 150)}
          />
          {err !== undefined && col !== undefined && (err.line ?? 1) === 1 && (
            <span
              className="kfl-caret"
              data-testid="kfl-caret"
              data-column={col}
              style={{ left: x(col) }}
              aria-hidden="true"
            >
              ^
            </span>
          )}
          {showMenu && word !== undefined && (
            <ul
              className="kfl-menu"
              role="listbox"
              data-testid="kfl-menu"
              style={{ left: Math.max(0, x(word.start + 1)) }}
            >
              {suggestions.map((s, i) => (
                <li
                  key={s.insert}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : ''}
                  onMouseDown={(ev) => {
                    ev.preventDefault();
                    take(s);
                  }}
                >
                  <span className={`kind ${s.kind}`}>{s.kind === 'field' ? s.type : s.kind}</span>
                  <span className="name">{s.insert}</span>
                  <span className="doc">{s.doc}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <button
          className="btn primary"
          data-testid="kfl-apply"
          onClick={() => onApply(value)}
          disabled={!dirty}
        >
          Apply
        </button>
        <button
          className="btn"
          onClick={() => onApply('')}
          disabled={value === '' && applied === ''}
          title="Clear the filter"
        >
          Clear
        </button>
      </div>
      <div className="kfl-status" data-testid="kfl-status">
        {err !== undefined ? (
          <span className="kfl-error" data-testid="kfl-error" data-code={err.code}>
            {err.message}
          </span>
        ) : translated !== undefined ? (
          <span className="kfl-note">
            runs as <code>{translated}</code>
            {current?.note !== undefined ? ` — ${current.note}` : ''}
          </span>
        ) : dirty ? (
          <span className="kfl-note">Enter to apply</span>
        ) : (
          <span className="kfl-note">{applied === '' ? 'no filter: everything' : 'applied'}</span>
        )}
      </div>
    </div>
  );
}
