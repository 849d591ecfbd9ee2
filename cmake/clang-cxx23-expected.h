// Force-included in clang builds only (fuzzing, clang-tidy). libstdc++ 12
// enables <expected> when __cpp_concepts >= 202002L; clang 16 implements
// what it needs but still advertises 201907L.
#if defined(__clang__) && __cpp_concepts < 202002L
#undef __cpp_concepts
#define __cpp_concepts 202002L
#endif
