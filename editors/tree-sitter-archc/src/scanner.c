// External scanner for tree-sitter-archc: decides which newlines end a statement, as the
// post-lexer of archc/frontend/dsl.py does.
//
// The parser asks for a _newline only where a statement can end, so a newline inside ( ) or [ ],
// or after an operator, `->`, `,`, `(`, `[`, `=`, `:`, `.`, `if`, `else`, `and`, `or` or `not`,
// is never asked for and is skipped as whitespace. Where one is asked for, it is still not given
// when the next line that is not blank or a comment starts with `->`, `else`, `if`, `and`, `or`,
// `.`, `,`, a binary operator or a closing bracket: that line continues the statement. At the end
// of the file a zero-width _newline ends the last statement. `\` at the end of a line continues it.

#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>

enum TokenType {
  NEWLINE,
  ERROR_SENTINEL,
};

void *tree_sitter_archc_external_scanner_create(void) { return NULL; }
void tree_sitter_archc_external_scanner_destroy(void *payload) { (void)payload; }
unsigned tree_sitter_archc_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}
void tree_sitter_archc_external_scanner_deserialize(void *payload, const char *buffer, unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static inline bool is_blank(int32_t c) { return c == ' ' || c == '\t' || c == '\f'; }

static inline bool is_word_char(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whether the next line, whose first character is the lexer's lookahead, continues the
// statement. Reads ahead past the token's end (mark_end has been called).
static bool continues(TSLexer *lexer) {
  switch (lexer->lookahead) {
    case '-': case '+': case '*': case '/': case '%': case '=': case '!': case '<': case '>':
    case '.': case ',': case ':': case ')': case ']':
      return true;
    default:
      break;
  }
  // a word: `else`, `if`, `and`, `or`, `for`, `in` continue (none can start a statement)
  char word[5];
  unsigned n = 0;
  while (is_word_char(lexer->lookahead)) {
    if (n == 4) return false;
    word[n++] = (char)lexer->lookahead;
    lexer->advance(lexer, false);
  }
  word[n] = 0;
  static const char *const words[] = {"else", "if", "and", "or", "for", "in"};
  for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    const char *w = words[i];
    unsigned j = 0;
    while (w[j] && w[j] == word[j]) j++;
    if (!w[j] && !word[j]) return true;
  }
  return false;
}

bool tree_sitter_archc_external_scanner_scan(void *payload, TSLexer *lexer, const bool *valid_symbols) {
  (void)payload;
  if (valid_symbols[ERROR_SENTINEL] || !valid_symbols[NEWLINE]) return false;

  // blanks, and `\` continuations, before the newline
  for (;;) {
    if (is_blank(lexer->lookahead)) {
      lexer->advance(lexer, true);
    } else if (lexer->lookahead == '\\') {
      lexer->advance(lexer, true);
      while (is_blank(lexer->lookahead)) lexer->advance(lexer, true);
      if (lexer->lookahead == '\r') lexer->advance(lexer, true);
      if (lexer->lookahead != '\n') return false;
      lexer->advance(lexer, true);
    } else {
      break;
    }
  }

  if (lexer->eof(lexer)) {
    lexer->mark_end(lexer);
    lexer->result_symbol = NEWLINE;
    return true;
  }
  // a comment before the newline is lexed first (an extra); the scanner runs again after it
  if (lexer->lookahead == '\r') {
    lexer->advance(lexer, false);
    if (lexer->lookahead != '\n') return false;
  }
  if (lexer->lookahead != '\n') return false;
  lexer->advance(lexer, false);
  lexer->mark_end(lexer);

  // find the first character of the next line that is not blank or a comment
  for (;;) {
    int32_t c = lexer->lookahead;
    if (lexer->eof(lexer)) break;
    if (is_blank(c) || c == '\r' || c == '\n') {
      lexer->advance(lexer, false);
    } else if (c == '#') {
      while (!lexer->eof(lexer) && lexer->lookahead != '\n') lexer->advance(lexer, false);
    } else {
      if (continues(lexer)) return false;
      break;
    }
  }
  lexer->result_symbol = NEWLINE;
  return true;
}
