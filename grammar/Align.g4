// Align.g4 — the grammar of `.align` recipes.
//
// The grammar fixes the *shape* of the language: declarations, stages, field blocks, expressions and literals.
// What a name means (which constructors exist, which fields they take, their types, ranges and defaults) lives
// in one table, compiler/frontend/Schema.cpp, and is checked by Sema. That split keeps the grammar small and
// lets Sema say "unknown field 'lr_rate'; did you mean 'lr'?" instead of a bare syntax error.
//
// Generated with the Debian `antlr4` tool (4.7.2) for the C++ runtime 4.9; the front end walks the parse tree
// with a typed transformer (compiler/frontend/Parse.cpp), never through visitor `Any` values.

grammar Align;

// ---------------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------------

file
    : recipe* EOF
    ;

recipe
    : RECIPE name=IDENT LBRACE recipeItem* RBRACE
    ;

recipeItem
    : declaration
    | stage
    | scheduleBlock
    | evalBlock
    ;

// `model base = llama(preset: "tiny", tokenizer: tok) { ... };`
// Names are parsed as `anyName` so that a keyword used as a name gets one clear error from the parse step
// instead of a cascade of syntax errors.
// The field block carries per-declaration fields such as a data source's column mapping and splits.
declaration
    : kind=declKind name=anyName ASSIGN value=expr fieldBlock? SEMI
    ;

declKind
    : TOKENIZER | MODEL | DATA | USERS | PREFERENCE | REWARD | ADAPTER | TEMPLATE | AGGREGATE
    | POLICY | REFERENCE
    ;

stage
    : STAGE name=anyName LBRACE stageItem* RBRACE
    ;

stageItem
    : INIT FROM source=IDENT SEMI                                   # initFrom
    | TRAIN target=IDENT ON data=exprList SEMI                      # trainOn
    | OBJECTIVE value=expr SEMI                                     # objective
    | LOOP kind=IDENT fieldBlock SEMI?                              # loop
    | declaration                                                   # stageDeclaration
    | scheduleBlock                                                 # stageSchedule
    | evalBlock                                                     # stageEval
    ;

scheduleBlock
    : SCHEDULE fieldBlock
    ;

// `eval { accuracy by user on prefs.eval; pareto(grid: 9) on prompts.eval; }`
evalBlock
    : EVAL LBRACE evalItem* RBRACE
    ;

evalItem
    : metric=IDENT args=callArgs? (BY key=anyName)? (ON data=exprList)? fieldBlock? SEMI
    ;

fieldBlock
    : LBRACE fieldItem* RBRACE
    ;

fieldItem
    : key=anyName COLON value=expr SEMI                             # field
    | SPLIT name=anyName ASSIGN value=expr (BY key=anyName)? SEMI   # split
    ;

// ---------------------------------------------------------------------------------------------------------------
// Expressions. Objectives are expressions too: `rank_loss() + 0.1 * imitation(threshold: 0.85)`.
// ---------------------------------------------------------------------------------------------------------------

expr
    : op=MINUS expr                                                 # negate
    | lhs=expr op=(STAR | SLASH) rhs=expr                           # multiply
    | lhs=expr op=(PLUS | MINUS) rhs=expr                           # add
    | lhs=expr WITH rhs=expr                                        # with
    | primary                                                       # atom
    ;

primary
    : callee=IDENT callArgs                                         # call
    | path                                                          # reference
    | literal                                                       # constant
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK                    # list
    | LPAREN expr RPAREN                                            # paren
    ;

callArgs
    : LPAREN (argument (COMMA argument)* COMMA?)? RPAREN
    ;

argument
    : (key=anyName COLON)? value=expr
    ;

exprList
    : expr (COMMA expr)*
    ;

// `prefs.eval` names a split of a data source; keywords are fine after the dot.
path
    : IDENT (DOT anyName)*
    ;

literal
    : NUMBER | PERCENT | ANGLE | DURATION | SIZE | STRING | TRUE | FALSE
    ;

// Field and argument keys may be spelled like keywords (`reference: precompute;`, `data: prefs`).
anyName
    : IDENT | TOKENIZER | MODEL | DATA | USERS | PREFERENCE | REWARD | ADAPTER | TEMPLATE | AGGREGATE
    | POLICY | REFERENCE | STAGE | INIT | FROM | TRAIN | ON | OBJECTIVE | LOOP | SCHEDULE | EVAL | SPLIT
    | BY | WITH | RECIPE
    ;

// ---------------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------------

RECIPE     : 'recipe';
TOKENIZER  : 'tokenizer';
MODEL      : 'model';
DATA       : 'data';
USERS      : 'users';
PREFERENCE : 'preference';
REWARD     : 'reward';
ADAPTER    : 'adapter';
TEMPLATE   : 'template';
AGGREGATE  : 'aggregate';
POLICY     : 'policy';
REFERENCE  : 'reference';
STAGE      : 'stage';
INIT       : 'init';
FROM       : 'from';
TRAIN      : 'train';
ON         : 'on';
OBJECTIVE  : 'objective';
LOOP       : 'loop';
SCHEDULE   : 'schedule';
EVAL       : 'eval';
SPLIT      : 'split';
BY         : 'by';
WITH       : 'with';
TRUE       : 'true';
FALSE      : 'false';

LBRACE : '{';
RBRACE : '}';
LPAREN : '(';
RPAREN : ')';
LBRACK : '[';
RBRACK : ']';
SEMI   : ';';
COLON  : ':';
COMMA  : ',';
DOT    : '.';
ASSIGN : '=';
PLUS   : '+';
MINUS  : '-';
STAR   : '*';
SLASH  : '/';

// Unit literals come before NUMBER so that `10%`, `45deg`, `30min` and `8GiB` are single tokens (longest match).
PERCENT  : DECIMAL '%';
ANGLE    : DECIMAL 'deg';
DURATION : DECIMAL ('ms' | 's' | 'min' | 'h');
// Bytes: binary (KiB = 1024) or decimal (KB = 1000) multiples.
SIZE     : DECIMAL ('KiB' | 'MiB' | 'GiB' | 'TiB' | 'KB' | 'MB' | 'GB' | 'TB');
NUMBER   : DECIMAL;
// A number run into letters (`10sec`, `0x10`) is one bad token, so the error names all of it.
BAD_NUMBER : DECIMAL [a-zA-Z_0-9]+;

STRING : '"' (ESCAPE | ~["\\\r\n])* '"';
// A string the line ends inside; the parse step reports it and reads it as if closed at the line's end.
UNTERMINATED_STRING : '"' (ESCAPE | ~["\\\r\n])*;
IDENT  : [a-zA-Z_] [a-zA-Z0-9_]*;

COMMENT : '#' ~[\r\n]* -> skip;
WS      : [ \t\r\n]+ -> skip;

fragment DECIMAL  : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT?;
fragment DIGITS   : [0-9]+;
fragment EXPONENT : [eE] [+-]? DIGITS;
// Any escaped character lexes, so that an unknown escape gets its own message from the parse step.
fragment ESCAPE   : '\\' ~[\r\n];
