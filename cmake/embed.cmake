# Turn the file IN into a C source OUT defining sg_openapi_json[] (NUL-terminated) and its length.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "#include <stddef.h>\nconst unsigned char sg_openapi_json[] = {${body}0x00};\nconst size_t sg_openapi_json_len = ${len};\n")
