// Catalogue of a Windows guest: the .lnk shortcuts under the all-users Start Menu
// (C:\ProgramData\Microsoft\Windows\Start Menu\Programs), parsed with parse_shell_link().
#pragma once

#include <filesystem>

#include "vitrine/catalog/desktop_scanner.hpp"

namespace vitrine::catalog {

// Walks `programs_dir` (bounded depth). id = path below it without ".lnk", '/' -> '-';
// name = file name without ".lnk"; exec = {target} or {target, arguments} (Windows passes the
// argument string whole). Shortcuts without a target (shell namespace items such as Control
// Panel entries) and broken files are listed in `skipped`. Icons are not extracted (they live
// in PE resources of the guest's executables).
ScanResult scan_start_menu(const std::filesystem::path& programs_dir);

}  // namespace vitrine::catalog
