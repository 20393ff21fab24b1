# One concern: the warning set every target of ours compiles with.
# Linked PRIVATE so that it never leaks into dependants.
add_library(b24seg_warnings INTERFACE)
target_compile_options(b24seg_warnings INTERFACE
    -Wall -Wextra -Wpedantic   # the baseline
    -Wshadow                   # a local hiding a member is a classic source of wrong-field bugs
    -Wconversion -Wsign-conversion  # ids and counts cross int64/size_t boundaries everywhere here
    -Wnon-virtual-dtor -Woverloaded-virtual
    -Wold-style-cast -Wnull-dereference
    -Wimplicit-fallthrough)
if(B24SEG_WARNINGS_AS_ERRORS)
    target_compile_options(b24seg_warnings INTERFACE -Werror)
endif()
