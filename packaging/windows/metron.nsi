; Metron's Windows installer, built on Linux by Debian's makensis (.ci/windows.sh):
;   makensis -DVERSION=0.1.0 -DBIN=<dir with the .exe files> -DOUT=<installer path> metron.nsi
; A per-user install: no admin rights, everything under the user's profile.
;   Program: %LOCALAPPDATA%\Programs\Metron      (removed by the uninstaller)
;   Data:    %LOCALAPPDATA%\Metron               (kept, unless the user asks, or /PURGE)
; Silent: `Metron-Setup-X.exe /S` (add /AUTOSTART to start Metron at sign-in),
;         `Uninstall.exe /S` (add /PURGE to delete the data too).

; A 64-bit installer for 64-bit programs (NSIS's default stub is 32-bit x86).
Target amd64-unicode
!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!define APP "Metron"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Metron"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
; The toasts' AppUserModelID (metron-tray registers the same, without the icon).
!define AUMID_KEY "Software\Classes\AppUserModelId\dev.metron.desktop"
; The WebView2 runtime's client id (Microsoft's documented way to detect it).
!define WEBVIEW2_ID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${APP}"
OutFile "${OUT}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
SetCompressor /SOLID lzma
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} time tracker installer"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_FINISHPAGE_RUN "$INSTDIR\metron-tray.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start Metron"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Russian"

Section "Metron" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${BIN}\metron.exe"
  File "${BIN}\metron-tray.exe"
  File "${BIN}\metron-agent.exe"
  File "${BIN}\WebView2Loader.dll"
  File "/oname=metron.ico" "${ICON}"
  ; The browser extension (loaded by the person or by policy) and its native-messaging host,
  ; registered for this user's browsers by the agent itself (manifests and HKCU keys).
  SetOutPath "$INSTDIR\browser-extension"
  File "${EXT}\manifest.json"
  File "${EXT}\background.js"
  File "${EXT}\icon-128.png"
  SetOutPath "$INSTDIR"
  nsExec::ExecToLog '"$INSTDIR\metron-agent.exe" browser install'
  Pop $1
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortcut "$SMPROGRAMS\${APP}\${APP}.lnk" "$INSTDIR\metron-tray.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "The Metron authors"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\metron-tray.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\metron.ico"
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

; The same Run value the app's own autostart setting writes (auto-launch, app name "Metron").
Section /o "Start Metron when I sign in" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${APP}" '"$INSTDIR\metron-tray.exe" --hidden'
SectionEnd

Function .onInit
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/AUTOSTART" $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecAutostart} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

; The window needs Microsoft's WebView2 runtime (Windows 11 has it; Windows 10 mostly does).
; Without it the tray and the tracking still work, so the install goes on and says how to
; get it.
Function .onInstSuccess
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_ID}" "pv"
  ${If} $0 == ""
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_ID}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    DetailPrint "The Microsoft Edge WebView2 runtime is missing."
    IfSilent +2
    MessageBox MB_OK|MB_ICONINFORMATION "Metron's window needs the Microsoft Edge WebView2 runtime, which this computer lacks. Tracking and the tray work without it.$\r$\n$\r$\nGet it (free) from https://developer.microsoft.com/microsoft-edge/webview2/ : the Evergreen Bootstrapper."
  ${EndIf}
FunctionEnd

Section "Uninstall"
  nsExec::ExecToLog '"$INSTDIR\metron-agent.exe" browser uninstall'
  Pop $1
  RMDir /r "$INSTDIR\browser-extension"
  ; Files still in use (Metron running) are removed at the next restart.
  Delete /REBOOTOK "$INSTDIR\metron.exe"
  Delete /REBOOTOK "$INSTDIR\metron-tray.exe"
  Delete /REBOOTOK "$INSTDIR\metron-agent.exe"
  Delete /REBOOTOK "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\metron.ico"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APP}\${APP}.lnk"
  RMDir "$SMPROGRAMS\${APP}"
  DeleteRegValue HKCU "${RUN_KEY}" "${APP}"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "${AUMID_KEY}"
  ; Tracked time not yet delivered lives in the data dir: kept unless asked.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    RMDir /r "$LOCALAPPDATA\${APP}"
  ${Else}
    IfSilent keep
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Also delete your Metron data (settings, logs and time not yet sent to the server) from $LOCALAPPDATA\${APP}?" IDNO keep
    RMDir /r "$LOCALAPPDATA\${APP}"
    keep:
  ${EndIf}
SectionEnd
