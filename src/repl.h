/*
 * repl.h — what the prompt (main.c) and the notebook kernel (kernel.c) share:
 * how a text becomes a chunk (`return <text>` first, so an expression gives
 * its value; a syntax error at <eof> means "more to come"), the protected
 * call with its traceback and Ctrl-C, the printing of results (and `_`), and
 * the completer's candidates. One copy, so a cell and a prompt line behave alike.
 */
#ifndef REPL_H
#define REPL_H

#include <lua.h>
#include <signal.h>

/* The characters that end a word for completion (readline's and the kernel's). */
/* not [ ] " ': a word may index, as in net.layers[2]:de or d["train"]. */
#define REPL_WORD_BREAK " \t\n\\`@$><=;|&{}(),+-*/%^~#"

typedef struct repl {
    int tty;    /* stdin is a terminal: prompts, line editing, history */
    int quiet;  /* the text ended in ';': do not print the results */
} repl;

/* The state the SIGINT handler and the completion callbacks reach (set once). */
void repl_set_state(lua_State *L);
lua_State *repl_state(void);

/* "prog: msg" (or just msg when prog is NULL) on stderr. */
void repl_message(const char *prog, const char *msg);

/* The message handler of every protected call: the error plus a traceback. */
int repl_msghandler(lua_State *L);

/* Install handler for SIGINT; the one it replaces goes to *old unless NULL. */
void repl_set_sigint(void (*handler)(int), struct sigaction *old);

/* Ctrl-C while Lua runs: sets the core's interrupt flag and a Lua hook that
 * raises "interrupted" at the next instruction. Async-signal-safe. */
void repl_on_sigint_running(int sig);

/* lua_pcall with the traceback handler and Ctrl-C armed; the SIGINT handler
 * of before is put back after. */
int repl_docall(lua_State *L, int narg, int nres);

/* A syntax error that ends at <eof>: the text may go on. Pops the message if so. */
int repl_incomplete(lua_State *L, int status);

/* Compile the text on top of the stack (left there): as `return <text>`
 * first, else as statements. Pushes the chunk (LUA_OK) or the error message;
 * or, when the text merely stopped early, pushes nothing and sets *more. */
int repl_compile(lua_State *L, repl *r, const char *chunkname, int *more);

/* Keep the first result in `_`, then print all of them with the global print.
 * The stack holds exactly the results. */
void repl_print_results(lua_State *L, repl *r);

/* Push deltalab.complete.candidates(word) (a sequence of strings); 0 and
 * nothing pushed when it fails. */
int repl_candidates(lua_State *L, const char *word);

#endif
