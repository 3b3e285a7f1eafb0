from mcpkg.cli import main

main()
