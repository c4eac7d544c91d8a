/** RE2 patterns as KFL `matches` evaluates them: accepted with RE2's meaning, or rejected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Re2Error, re2RegExp, translateRe2 } from './re2.ts';

/** [pattern, input, RE2's answer]. Where JS regex syntax would answer differently, it says so. */
const MATCHES: [string, string, boolean][] = [
  ['b', 'abc', true], // search, not full match
  ['^/api/v[0-9]+/', '/api/v2/users', true],
  ['a.b', 'a\rb', true], // JS `.` stops at \r
  ['a.b', 'a\u2028b', true], // … and at U+2028
  ['a.b', 'a\nb', false],
  ['(?s)a.b', 'a\nb', true],
  ['(?i)get', 'GET', true],
  ['(?is)x.Y', 'X\ny', true],
  ['^\\s$', ' ', true],
  ['^\\s$', '\v', false], // JS \s matches \v
  ['^\\s$', '\u00a0', false], // … and Unicode spaces
  ['^\\S+$', 'a\u00a0b', true],
  ['^[\\s]$', '\t', true],
  ['^[^\\s]$', '\u00a0', true],
  ['^[[:alpha:]]+$', 'abcXYZ', true],
  ['^[[:alpha:]]+$', 'é', false], // POSIX classes are ASCII
  ['^[[:digit:][:upper:]]+$', '42AB', true],
  ['^[[:punct:]]+$', '!/[`{~', true],
  ['^[[:xdigit:]]+$', 'deadBEEF', true],
  ['^\\pL+$', 'héllo', true],
  ['^\\p{Greek}+$', 'αβγ', true],
  ['^\\PL$', '1', true],
  ['^\\p{^L}$', '1', true],
  ['^\\x{263a}$', '☺', true],
  ['^\\x41$', 'A', true],
  ['^\\a$', '\x07', true], // JS \a is "a"
  ['^\\0$', '\0', true],
  ['(?P<year>\\d{4})-(?<month>\\d{2})', 'on 2026-03', true],
  ['^a{2,3}$', 'aaa', true],
  ['^a{2,3}$', 'aaaa', false],
  ['^a{,3}$', 'a{,3}', true], // not a repetition in RE2: literal
  ['^a{$', 'a{', true],
  ['^a}$', 'a}', true],
  ['^a]$', 'a]', true],
  ['^[]a]+$', ']a]', true], // `]` first in a class is a literal
  ['^[^]a]$', 'b', true],
  ['^\\.\\-\\#\\"$', '.-#"', true], // escaped punctuation is literal
  ['^[a\\-z]$', '-', true],
  ['^.$', '😀', true], // code points, not UTF-16 units
  ['\\bword\\b', 'a word here', true],
  ['^a+?b$', 'aaab', true],
  ['^(a|b)*c$', 'ababc', true],
  ['^(?:ab)+$', 'abab', true],
  ['^$', '', true],
  ['x*', '', true],
];

test('accepted patterns match as RE2 does', () => {
  const failures: string[] = [];
  for (const [p, s, want] of MATCHES) {
    const got = re2RegExp(p).test(s);
    if (got !== want) failures.push(`${p} on ${JSON.stringify(s)}: want ${want}`);
  }
  assert.deepEqual(failures, []);
});

/** [pattern, offset of the problem, message]. */
const REJECTED: [string, number, RegExp][] = [
  ['(a)\\1', 3, /backreferences/],
  ['(?P<n>a)(?P=n)', 8, /backreferences/],
  ['(?<n>a)\\k<n>', 7, /backreferences/],
  ['(?=a)', 0, /lookaround/],
  ['a(?!b)', 1, /lookaround/],
  ['(?<=a)b', 0, /lookaround/],
  ['(?<!a)b', 0, /lookaround/],
  ['(?>a)', 0, /atomic/],
  ['(?#c)a', 0, /comments/],
  ['a(?i)b', 1, /inline flags are supported only at the start/],
  ['(?i:a)', 0, /inline flags/],
  ['(?m)^a$', 0, /\(\?m\)/],
  ['(?U)a+', 0, /\(\?U\)/],
  ['\\Aabc', 0, /\\A/],
  ['abc\\z', 3, /\\z/],
  ['\\Qa.b\\E', 0, /\\Q/],
  ['\\C', 0, /invalid escape/],
  ['\\e', 0, /invalid escape/],
  ['[[:^alpha:]]', 1, /negated POSIX/],
  ['[[:word2:]]', 1, /unknown POSIX class/],
  ['[\\S]', 1, /\\S inside a character class/],
  ['[\\b]', 1, /\\b inside a character class/],
  ['a**', 2, /bad repetition operator/],
  ['a{2}{3}', 4, /bad repetition operator/],
  ['*a', 0, /missing argument/],
  ['(|+)', 2, /missing argument/],
  ['^*', 1, /missing argument/],
  ['a{1001}', 1, /above 1000/],
  ['a{3,2}', 1, /min > max/],
  ['(a', 2, /missing closing \)/],
  ['a)', 1, /unexpected \)/],
  ['[a', 0, /missing closing \]/],
  ['\\p{Klingon}', 0, /unknown Unicode class/],
  ['\\x4', 0, /two hex digits/],
  ['a\\', 1, /trailing backslash/],
  ['(?P<1x>a)', 0, /invalid group name/],
];

test('patterns outside the RE2 subset are rejected at the offending offset', () => {
  const failures: string[] = [];
  for (const [p, offset, msg] of REJECTED) {
    try {
      translateRe2(p);
      failures.push(`${p}: accepted`);
    } catch (e) {
      if (!(e instanceof Re2Error)) throw e;
      if (e.offset !== offset || !msg.test(e.message)) {
        failures.push(`${p}: want ${offset} ${msg}, got ${e.offset} ${e.message}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('translations are cached and use the u flag', () => {
  const a = re2RegExp('^x.y$');
  assert.equal(re2RegExp('^x.y$'), a);
  assert.equal(a.flags, 'u');
  assert.deepEqual(translateRe2('(?i)a.b\\s'), { source: 'a[^\\n]b[\\t\\n\\f\\r ]', flags: 'ui' });
});
