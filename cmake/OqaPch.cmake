# The LibTorch precompiled header is ~600 MB and costs ~6 s to load: files that include neither LibTorch
# nor an oqa header outside util/ skip it (they compile in well under a second).
function(oqa_skip_pch_for_light_sources)
  foreach(src ${ARGN})
    file(STRINGS ${src} heavy REGEX "#include [<\"](torch|ATen|c10)/")
    file(STRINGS ${src} oqa_includes REGEX "#include \"oqa/")
    list(FILTER oqa_includes EXCLUDE REGEX "\"oqa/(util|cli)/")
    if(NOT heavy AND NOT oqa_includes)
      set_source_files_properties(${src} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()
