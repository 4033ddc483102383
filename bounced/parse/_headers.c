/* Header blocks and field text read in C: the compiled build's form of six functions of the
 * parser (bounced/parse/native.py lists them).
 *
 * Every message is a few header blocks, and reading them was a fifth of the parser's time in
 * Python: unfolding with a pattern, splitting into lines, partitioning, stripping and lower-casing
 * each one, so a dozen new strings per field. Here one pass over the characters finds where
 * each name and value start and end, and only the strings the caller gets are made. The same
 * goes for a structured field's parameters (mime.parse_params) and for collapsing white space
 * (fields.collapse), which every reply and subject goes through.
 *
 * The functions do exactly what their Python forms in mime.py and fields.py do, which stay the
 * reference: the pure Python build runs those, and tests/unit/test_parse_headers_c.py checks that
 * both give the same results on any text. Lines end with LF only (mime.to_text has removed CRs).
 * "White space" is what str.strip(), str.split() and the patterns' \s take (Py_UNICODE_ISSPACE);
 * "blank" is a space or a tab. Every index is checked against the length before a character is
 * read.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_NAME_START 80  /* mime._HEADER_BLOCK: [^\s:]{1,80} */
#define MAX_NAME 200       /* mime._fields_of: 0 < len(name) <= 200 */
#define MAX_FIELD_BLANKS 7 /* mime._field_value: [ \t]{0,7} before the colon */

typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    Py_ssize_t len;
} Text;

static int
text_init(Text *t, PyObject *obj, const char *what)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    t->text = obj;
    t->kind = PyUnicode_KIND(obj);
    t->data = PyUnicode_DATA(obj);
    t->len = PyUnicode_GET_LENGTH(obj);
    return 0;
}

static inline Py_UCS4
at(const Text *t, Py_ssize_t i)
{
    return PyUnicode_READ(t->kind, t->data, i);
}

static inline int
is_blank(Py_UCS4 c)
{
    return c == ' ' || c == '\t';
}

/* True when the line after the LF at `end` goes on from it: it starts with a blank (a fold). */
static inline int
folded_after(const Text *t, Py_ssize_t end)
{
    return end + 1 < t->len && is_blank(at(t, end + 1));
}

/* Where the line that starts at `from` ends (its LF, or the end of the text); -2 on error. */
static Py_ssize_t
line_end(const Text *t, Py_ssize_t from)
{
    if (from >= t->len) {
        return t->len;
    }
    Py_ssize_t found = PyUnicode_FindChar(t->text, '\n', from, t->len, 1);
    if (found == -2) {
        return -2;
    }
    return found < 0 ? t->len : found;
}

/* True when a field starts at `p`: 1 to 80 characters that are neither white space nor a colon,
 * blanks, then a colon (mime._HEADER_BLOCK's "[^\s:]{1,80}[ \t]*:"). */
static int
field_starts(const Text *t, Py_ssize_t p)
{
    Py_ssize_t q = p;
    while (q < t->len && q - p <= MAX_NAME_START) {
        Py_UCS4 c = at(t, q);
        if (c == ':' || Py_UNICODE_ISSPACE(c)) {
            break;
        }
        q++;
    }
    if (q == p || q - p > MAX_NAME_START) {
        return 0;
    }
    while (q < t->len && is_blank(at(t, q))) {
        q++;
    }
    return q < t->len && at(t, q) == ':';
}

static int
starts_with_ascii(const Text *t, Py_ssize_t p, const char *s)
{
    for (; *s; s++, p++) {
        if (p >= t->len || at(t, p) != (Py_UCS4)(unsigned char)*s) {
            return 0;
        }
    }
    return 1;
}

/* split_header_block(text, start=0): mime.split_header_block. */
static PyObject *
split_header_block(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Text t;
    Py_ssize_t start = 0;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "split_header_block(text, start=0)");
        return NULL;
    }
    if (text_init(&t, args[0], "text") < 0) {
        return NULL;
    }
    if (nargs == 2) {
        start = PyLong_AsSsize_t(args[1]);
        if (start == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (start < 0 || start > t.len) {
        PyErr_SetString(PyExc_ValueError, "start must be within the text");
        return NULL;
    }
    while (starts_with_ascii(&t, start, "From ")) { /* mbox separator lines */
        Py_ssize_t nl = line_end(&t, start);
        if (nl == -2) {
            return NULL;
        }
        start = nl < t.len ? nl + 1 : t.len;
    }
    if (!field_starts(&t, start)) {
        Py_ssize_t body = starts_with_ascii(&t, start, "\n\n") ? start + 2 : start;
        return Py_BuildValue("(sn)", "", body);
    }
    Py_ssize_t end = line_end(&t, start);
    while (end >= 0 && end < t.len) {
        Py_ssize_t next = end + 1;
        if (next < t.len && (is_blank(at(&t, next)) || field_starts(&t, next))) {
            end = line_end(&t, next);
        }
        else {
            break;
        }
    }
    if (end == -2) {
        return NULL;
    }
    Py_ssize_t body;
    if (starts_with_ascii(&t, end, "\n\n")) {
        body = end + 2;
    }
    else {
        body = end + 1 < t.len ? end + 1 : t.len;
    }
    PyObject *block = PyUnicode_Substring(t.text, start, end);
    if (block == NULL) {
        return NULL;
    }
    PyObject *result = Py_BuildValue("(Nn)", block, body);
    return result;
}

/* Moves *start and *end inwards past white space (the bounds str.strip() keeps). */
static void
trim(const Text *t, Py_ssize_t *start, Py_ssize_t *end)
{
    while (*start < *end && Py_UNICODE_ISSPACE(at(t, *start))) {
        (*start)++;
    }
    while (*end > *start && Py_UNICODE_ISSPACE(at(t, *end - 1))) {
        (*end)--;
    }
}

/* `text[start:end]` without white space at either end (str.strip()). */
static PyObject *
stripped(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    trim(t, &start, &end);
    return PyUnicode_Substring(t->text, start, end);
}

/* `text[start:end].lower()` for a span of ASCII characters only. */
static PyObject *
ascii_lower(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *out = PyUnicode_New(end - start, 127);
    if (out == NULL) {
        return NULL;
    }
    Py_UCS1 *chars = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = at(t, i);
        chars[i - start] = (Py_UCS1)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return out;
}

/* `text[start:end].strip().lower()`: lower-cased here when ASCII, by str.lower otherwise. */
static PyObject *
stripped_lower(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    trim(t, &start, &end);
    for (Py_ssize_t i = start; i < end; i++) {
        if (at(t, i) > 127) {
            PyObject *part = PyUnicode_Substring(t->text, start, end);
            if (part == NULL) {
                return NULL;
            }
            PyObject *lower = PyObject_CallMethod(part, "lower", NULL);
            Py_DECREF(part);
            return lower;
        }
    }
    return ascii_lower(t, start, end);
}

/* One field of a logical line (no LF in it) as mime._fields_of reads it: `line[start:end]`
 * partitioned at its first colon. Sets *name and *value (new references), or leaves both NULL
 * when the line is no field; returns -1 on error. */
static int
read_line(const Text *t, Py_ssize_t start, Py_ssize_t end, PyObject **name, PyObject **value)
{
    *name = *value = NULL;
    if (start >= end) {
        return 0;
    }
    Py_ssize_t colon = PyUnicode_FindChar(t->text, ':', start, end, 1);
    if (colon == -2) {
        return -1;
    }
    if (colon < 0 || colon == start || colon - start > MAX_NAME) {
        return 0;
    }
    *name = stripped_lower(t, start, colon);
    if (*name == NULL) {
        return -1;
    }
    *value = stripped(t, colon + 1, end);
    if (*value == NULL) {
        Py_CLEAR(*name);
        return -1;
    }
    return 0;
}

/* The logical line that starts at `start` and goes on over the lines after `first_end` that
 * start with a blank, unfolded as mime._FOLD does it (a line end and the blanks after it are one
 * space). Sets *end to where the last of its lines ends. */
static PyObject *
unfolded(const Text *t, Py_ssize_t start, Py_ssize_t first_end, Py_ssize_t *end)
{
    PyObject *pieces = PyList_New(0);
    if (pieces == NULL) {
        return NULL;
    }
    PyObject *piece = PyUnicode_Substring(t->text, start, first_end);
    Py_ssize_t stop = first_end;
    while (piece != NULL) {
        int failed = PyList_Append(pieces, piece);
        Py_DECREF(piece);
        piece = NULL;
        if (failed < 0 || !folded_after(t, stop)) {
            break;
        }
        Py_ssize_t from = stop + 1;
        while (from < t->len && is_blank(at(t, from))) {
            from++;
        }
        stop = line_end(t, from);
        if (stop == -2) {
            break;
        }
        piece = PyUnicode_Substring(t->text, from, stop);
    }
    if (PyErr_Occurred()) {
        Py_DECREF(pieces);
        return NULL;
    }
    *end = stop;
    PyObject *space = PyUnicode_FromOrdinal(' ');
    if (space == NULL) {
        Py_DECREF(pieces);
        return NULL;
    }
    PyObject *line = PyUnicode_Join(space, pieces);
    Py_DECREF(space);
    Py_DECREF(pieces);
    return line;
}

/* Calls `take(name, value, sink)` for each field of a header block, in order
 * (mime._fields_of). */
static int
each_field(PyObject *block, int (*take)(PyObject *, PyObject *, PyObject *), PyObject *sink)
{
    Text t;
    if (text_init(&t, block, "block") < 0) {
        return -1;
    }
    Py_ssize_t pos = 0;
    while (pos <= t.len) {
        Py_ssize_t end = line_end(&t, pos);
        if (end == -2) {
            return -1;
        }
        PyObject *name, *value;
        if (folded_after(&t, end)) {
            Py_ssize_t last;
            PyObject *line = unfolded(&t, pos, end, &last);
            if (line == NULL) {
                return -1;
            }
            Text logical;
            if (text_init(&logical, line, "line") < 0) {
                Py_DECREF(line);
                return -1;
            }
            int failed = read_line(&logical, 0, logical.len, &name, &value);
            Py_DECREF(line);
            if (failed < 0) {
                return -1;
            }
            end = last;
        }
        else if (read_line(&t, pos, end, &name, &value) < 0) {
            return -1;
        }
        if (name != NULL) {
            int failed = take(name, value, sink);
            Py_DECREF(name);
            Py_DECREF(value);
            if (failed < 0) {
                return -1;
            }
        }
        pos = end + 1;
    }
    return 0;
}

static int
take_pair(PyObject *name, PyObject *value, PyObject *list)
{
    PyObject *pair = PyTuple_Pack(2, name, value);
    if (pair == NULL) {
        return -1;
    }
    int failed = PyList_Append(list, pair);
    Py_DECREF(pair);
    return failed;
}

static int
take_indexed(PyObject *name, PyObject *value, PyObject *index)
{
    PyObject *values = PyDict_GetItemWithError(index, name); /* borrowed */
    if (values != NULL) {
        return PyList_Append(values, value);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    values = PyList_New(1);
    if (values == NULL) {
        return -1;
    }
    Py_INCREF(value);
    PyList_SET_ITEM(values, 0, value);
    int failed = PyDict_SetItem(index, name, values);
    Py_DECREF(values);
    return failed;
}

/* fields(block): list(mime._fields_of(block)). */
static PyObject *
fields(PyObject *module, PyObject *block)
{
    PyObject *out = PyList_New(0);
    if (out != NULL && each_field(block, take_pair, out) < 0) {
        Py_CLEAR(out);
    }
    return out;
}

/* index_fields(block): mime._index_fields(block). */
static PyObject *
index_fields(PyObject *module, PyObject *block)
{
    PyObject *out = PyDict_New();
    if (out != NULL && each_field(block, take_indexed, out) < 0) {
        Py_CLEAR(out);
    }
    return out;
}

/* True when the line at `p` opens with `name` in any ASCII letter case, up to 7 blanks and a
 * colon (mime._field_value's pattern); sets *colon. */
static int
names_field(const Text *t, Py_ssize_t p, const Text *name, Py_ssize_t *colon)
{
    if (p + name->len > t->len) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < name->len; i++) {
        Py_UCS4 c = at(t, p + i);
        Py_UCS4 n = at(name, i);
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (n >= 'A' && n <= 'Z') {
            n += 'a' - 'A';
        }
        if (c != n) {
            return 0;
        }
    }
    Py_ssize_t q = p + name->len;
    Py_ssize_t blanks = 0;
    while (q < t->len && is_blank(at(t, q)) && blanks <= MAX_FIELD_BLANKS) {
        q++;
        blanks++;
    }
    if (blanks > MAX_FIELD_BLANKS || q >= t->len || at(t, q) != ':') {
        return 0;
    }
    *colon = q;
    return 1;
}

/* field_value(block, name): mime._field_value(block, name). */
static PyObject *
field_value(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Text t, name;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "field_value(block, name)");
        return NULL;
    }
    if (text_init(&t, args[0], "block") < 0 || text_init(&name, args[1], "name") < 0) {
        return NULL;
    }
    Py_ssize_t p = 0;
    while (p <= t.len) {
        Py_ssize_t end = line_end(&t, p);
        if (end == -2) {
            return NULL;
        }
        Py_ssize_t colon;
        if (names_field(&t, p, &name, &colon)) {
            if (folded_after(&t, end)) {
                Py_ssize_t last;
                PyObject *line = unfolded(&t, colon + 1, end, &last);
                if (line == NULL) {
                    return NULL;
                }
                Text logical;
                PyObject *value = NULL;
                if (text_init(&logical, line, "line") == 0) {
                    value = stripped(&logical, 0, logical.len);
                }
                Py_DECREF(line);
                return value;
            }
            return stripped(&t, colon + 1, end);
        }
        p = end + 1;
    }
    return PyUnicode_New(0, 0);
}

/* White space among the characters of one byte (str.split()'s), looked up without a call. */
static unsigned char latin1_space[256];

static inline int
is_space(Py_UCS4 c)
{
    return c < 256 ? latin1_space[c] : Py_UNICODE_ISSPACE(c);
}

/* collapse for a text of one storage width: one pass into a buffer of that width, each word
 * copied whole, then PyUnicode_FromKindAndData, which gives the result its narrowest form (a
 * text whose only wide characters were white space comes out narrow). The result is never
 * longer than the text; the text itself is returned when it has no white space at either end
 * and one space between words. */
#define COLLAPSE(NAME, CHAR, KIND)                                                                 \
    static PyObject *NAME(PyObject *text, const CHAR *chars, Py_ssize_t len)                       \
    {                                                                                              \
        CHAR small[256];                                                                           \
        CHAR *buffer = len <= 256 ? small : PyMem_Malloc(len * sizeof(CHAR));                      \
        if (buffer == NULL) {                                                                      \
            return PyErr_NoMemory();                                                               \
        }                                                                                          \
        Py_ssize_t size = 0;                                                                       \
        int same = 1;                                                                              \
        for (Py_ssize_t i = 0; i < len;) {                                                         \
            Py_ssize_t gap = i;                                                                    \
            while (i < len && is_space(chars[i])) {                                                \
                i++;                                                                               \
            }                                                                                      \
            if (i == len) {                                                                        \
                same &= gap == i; /* white space at the end */                                     \
                break;                                                                             \
            }                                                                                      \
            if (size > 0) {                                                                        \
                same &= i - gap == 1 && chars[gap] == ' ';                                         \
                buffer[size++] = ' ';                                                              \
            }                                                                                      \
            else {                                                                                 \
                same &= gap == i; /* white space at the start */                                   \
            }                                                                                      \
            Py_ssize_t word = i;                                                                   \
            while (i < len && !is_space(chars[i])) {                                               \
                i++;                                                                               \
            }                                                                                      \
            memcpy(buffer + size, chars + word, (i - word) * sizeof(CHAR));                        \
            size += i - word;                                                                      \
        }                                                                                          \
        PyObject *out = same ? Py_NewRef(text) : PyUnicode_FromKindAndData(KIND, buffer, size);    \
        if (buffer != small) {                                                                     \
            PyMem_Free(buffer);                                                                    \
        }                                                                                          \
        return out;                                                                                \
    }

COLLAPSE(collapse_ucs1, Py_UCS1, PyUnicode_1BYTE_KIND)
COLLAPSE(collapse_ucs2, Py_UCS2, PyUnicode_2BYTE_KIND)
COLLAPSE(collapse_ucs4, Py_UCS4, PyUnicode_4BYTE_KIND)

/* collapse(text): fields.collapse, `" ".join(text.split())`: every run of white space, line ends
 * included, one space, none at either end. A text that is so already is returned as it is. */
static PyObject *
collapse(PyObject *module, PyObject *arg)
{
    Text t;
    if (text_init(&t, arg, "text") < 0) {
        return NULL;
    }
    switch (t.kind) {
    case PyUnicode_1BYTE_KIND:
        return collapse_ucs1(arg, PyUnicode_1BYTE_DATA(arg), t.len);
    case PyUnicode_2BYTE_KIND:
        return collapse_ucs2(arg, PyUnicode_2BYTE_DATA(arg), t.len);
    default:
        return collapse_ucs4(arg, PyUnicode_4BYTE_DATA(arg), t.len);
    }
}

#define MAX_PARAM_NAME 78    /* mime._PARAM: [A-Za-z0-9_.*-]{1,78} */
#define MAX_PARAM_RUN 2000   /* mime._PARAM: [^"\\]{0,2000} and [^;\s]{0,2000} */
#define MAX_PARAM_ESCAPES 20 /* mime._PARAM: (?:\\.[^"\\]{0,2000}){0,20} */

static inline int
is_param_name(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
           || c == '.' || c == '*' || c == '-';
}

static inline Py_ssize_t
skip_space(const Text *t, Py_ssize_t p)
{
    while (p < t->len && Py_UNICODE_ISSPACE(at(t, p))) {
        p++;
    }
    return p;
}

/* Where the run of characters other than '"' and '\' that starts at `p` ends. */
static inline Py_ssize_t
unquoted_run(const Text *t, Py_ssize_t p)
{
    while (p < t->len && at(t, p) != '"' && at(t, p) != '\\') {
        p++;
    }
    return p;
}

/* The quoted string whose opening quote is at `quote`, as mime._PARAM's first branch matches it:
 * sets *end past its closing quote and returns where the closing quote is, or -1 when that
 * branch does not match there (no closing quote, a run or an escape over the bounds, or a
 * backslash before a line end or the end). The branch cannot match elsewhere by backtracking:
 * each of its runs stops only at a quote or a backslash. */
static Py_ssize_t
quoted_end(const Text *t, Py_ssize_t quote, Py_ssize_t *end)
{
    Py_ssize_t p = quote + 1;
    Py_ssize_t run_end = unquoted_run(t, p);
    if (run_end - p > MAX_PARAM_RUN) {
        return -1;
    }
    p = run_end;
    for (int escapes = 0; escapes < MAX_PARAM_ESCAPES; escapes++) {
        if (p + 1 >= t->len || at(t, p) != '\\' || at(t, p + 1) == '\n') {
            break;
        }
        run_end = unquoted_run(t, p + 2);
        if (run_end - (p + 2) > MAX_PARAM_RUN) {
            return -1;
        }
        p = run_end;
    }
    if (p >= t->len || at(t, p) != '"') {
        return -1;
    }
    *end = p + 1;
    return p;
}

/* The parameter name of a match (ASCII, is_param_name) as the dictionary key: lower-cased,
 * trailing '*'s removed. */
static PyObject *
param_key(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    while (end > start && at(t, end - 1) == '*') {
        end--;
    }
    return ascii_lower(t, start, end);
}

/* The value of a quoted parameter: its text with each \" turned into " (str.replace). */
static PyObject *
quoted_value(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *value = PyUnicode_Substring(t->text, start, end);
    if (value == NULL || PyUnicode_FindChar(value, '\\', 0, end - start, 1) == -1) {
        return value;
    }
    PyObject *from = PyUnicode_FromString("\\\"");
    PyObject *to = from == NULL ? NULL : PyUnicode_FromString("\"");
    PyObject *replaced = to == NULL ? NULL : PyUnicode_Replace(value, from, to, -1);
    Py_XDECREF(from);
    Py_XDECREF(to);
    Py_DECREF(value);
    return replaced;
}

/* Matches mime._PARAM at the ';' at `semi`. Returns where the match ends and sets *key and
 * *value (new references), or returns 0 when it does not match there (both left NULL), or -1 on
 * error. */
static Py_ssize_t
param_at(const Text *t, Py_ssize_t semi, PyObject **key, PyObject **value)
{
    *key = *value = NULL;
    Py_ssize_t name = skip_space(t, semi + 1);
    Py_ssize_t p = name;
    while (p < t->len && is_param_name(at(t, p))) {
        p++;
    }
    /* A longer name leaves a name character where "\s*=" must follow, whatever the backtracking. */
    if (p == name || p - name > MAX_PARAM_NAME) {
        return 0;
    }
    Py_ssize_t name_end = p;
    p = skip_space(t, p);
    if (p >= t->len || at(t, p) != '=') {
        return 0;
    }
    p = skip_space(t, p + 1);
    Py_ssize_t end = -1;
    Py_ssize_t close = p < t->len && at(t, p) == '"' ? quoted_end(t, p, &end) : -1;
    if (close >= 0) {
        *value = quoted_value(t, p + 1, close);
    }
    else {
        end = p;
        while (end < t->len && end - p < MAX_PARAM_RUN && at(t, end) != ';'
               && !Py_UNICODE_ISSPACE(at(t, end))) {
            end++;
        }
        *value = PyUnicode_Substring(t->text, p, end);
    }
    if (*value == NULL) {
        return -1;
    }
    *key = param_key(t, name, name_end);
    if (*key == NULL) {
        Py_CLEAR(*value);
        return -1;
    }
    return end;
}

/* parse_params(value): mime.parse_params, a structured field such as Content-Type split into its
 * lower-cased value and its parameters (the first of each name kept), each ';' tried as
 * mime._PARAM.findall tries it: a match resumes the search at its end, a failure at the next
 * character. */
static PyObject *
parse_params(PyObject *module, PyObject *arg)
{
    Text t;
    if (text_init(&t, arg, "value") < 0) {
        return NULL;
    }
    Py_ssize_t semi = PyUnicode_FindChar(arg, ';', 0, t.len, 1);
    if (semi == -2) {
        return NULL;
    }
    PyObject *head = stripped_lower(&t, 0, semi < 0 ? t.len : semi);
    PyObject *params = head == NULL ? NULL : PyDict_New();
    if (params == NULL) {
        Py_XDECREF(head);
        return NULL;
    }
    while (semi >= 0 && semi < t.len) {
        PyObject *key, *value;
        Py_ssize_t end = param_at(&t, semi, &key, &value);
        if (end < 0) {
            goto error;
        }
        if (key != NULL) {
            PyObject *kept = PyDict_SetDefault(params, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (kept == NULL) {
                goto error;
            }
        }
        Py_ssize_t from = key != NULL ? end : semi + 1;
        semi = from < t.len ? PyUnicode_FindChar(arg, ';', from, t.len, 1) : -1;
        if (semi == -2) {
            goto error;
        }
    }
    return Py_BuildValue("(NN)", head, params);
error:
    Py_DECREF(head);
    Py_DECREF(params);
    return NULL;
}

static PyMethodDef methods[] = {
    {"split_header_block", (PyCFunction)(void (*)(void))split_header_block, METH_FASTCALL,
     "The header block at `start` and where the body starts (mime.split_header_block)."},
    {"fields", fields, METH_O,
     "Each field of a header block as (lower-case name, value), unfolded, in order."},
    {"index_fields", index_fields, METH_O,
     "The fields of a header block by lower-case name, each name's values in order."},
    {"field_value", (PyCFunction)(void (*)(void))field_value, METH_FASTCALL,
     "The unfolded value of the first field of this name in a header block; empty if none."},
    {"parse_params", parse_params, METH_O,
     "A structured field's lower-cased value and its parameters (mime.parse_params)."},
    {"collapse", collapse, METH_O,
     "Every run of white space one space, none at either end (fields.collapse)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "bounced.parse._headers",
    "Header blocks and field text read in C (bounced/parse/native.py names the Python forms).",
    0,
    methods,
};

PyMODINIT_FUNC
PyInit__headers(void)
{
    for (Py_UCS4 c = 0; c < 256; c++) {
        latin1_space[c] = Py_UNICODE_ISSPACE(c) ? 1 : 0;
    }
    return PyModuleDef_Init(&module);
}
