from mcpkg.cli.app import main

main()
